import { COMMON_EXIT_CODES } from '../cli/exit-codes-help.js';
import { Option } from '@commander-js/extra-typings';
import { defineCommand, type RunContext } from '../cli/command-spec.js';
import type { FlagsOf } from '../cli/flags-of.js';
import { keyOptions, outputOptions, tableOptions } from '../cli/options.js';
import { note, openReportStream, renderContext, withSpinner } from '../cli/output.js';
import { optionalWholeNumber, WHOLE_RANGES } from '../cli/parse/whole-number.js';
import { resolveKeySettings, resolveTableSettings } from '../cli/settings.js';
import { readSuspectsConfig, SUSPECTS_MAX_PAIRS } from '../cli/suspects-config.js';
import { loadOneKey } from '../core/lead-table.js';
import { createRedactor } from '../core/redaction.js';
import { redactSuspectGroup } from '../suspects/redact-suspects.js';
import { findSuspects, type SuspectsSink } from '../suspects/suspects.js';
import { suspectsPlan } from '../suspects/suspects-plan.js';
import { writeFileAtomically } from '../cli/atomic-file.js';
import { withDatabase } from '../db/with-database.js';
import { stoppable } from '../cli/interrupt.js';
import { ExitCode, UsageError } from '../errors.js';
import { formatCount } from '../render/common/format.js';
import { suspectsRenderer, SUSPECTS_FORMATS } from '../render/suspects/index.js';

const SUSPECTS_OPTIONS = [
  ...tableOptions(),
  ...keyOptions('the exact key: pairs it already groups are not suspects (default: device-phone)'),
  new Option('--max-pairs <n>', 'refuse (exit 2, nothing compared) when the blocks give more candidate pairs than this').default(String(SUSPECTS_MAX_PAIRS)),
  new Option('--truth-column <column>', 'a ground truth (rows of one person share its value): report precision, recall and F1'),
  new Option('--top <n>', 'groups the table lists').default('20'),
  new Option('--plan-out <file>', 'also write the groups as a clean plan, each "needs review": accept groups, then clean --plan <file> --execute'),
  new Option('--redact', 'mask customer values (phones, e-mails, names) in the report, as report does'),
  ...outputOptions(SUSPECTS_FORMATS),
] as const;

type SuspectsFlags = FlagsOf<typeof SUSPECTS_OPTIONS>;

export const suspectsCommand = defineCommand({
  name: 'suspects',
  description: 'near-duplicates the exact key misses: candidate pairs from blocks, compared, scored and explained, grouped (read-only)',
  options: SUSPECTS_OPTIONS,
  examples: [
    'lead-dedupe suspects --key device-phone --default-country MY',
    'lead-dedupe suspects --format csv --output suspects.csv --redact',
    'lead-dedupe seed --scenario near-duplicates --replace && lead-dedupe suspects --truth-column true_person_id',
  ],
  exitCodes: {
    ...COMMON_EXIT_CODES,
    [ExitCode.usage]: 'usage or configuration error, or more candidate pairs than --max-pairs; nothing compared',
  },
  run: runSuspects,
});

async function runSuspects(flags: SuspectsFlags, _args: string[], { source }: RunContext): Promise<ExitCode> {
  const maxPairs = optionalWholeNumber(flags.maxPairs, source('--max-pairs'), WHOLE_RANGES.maxPairs, SUSPECTS_MAX_PAIRS);
  const top = optionalWholeNumber(flags.top, source('--top'), WHOLE_RANGES.top, 20);
  const settings = resolveTableSettings(flags);
  const keySettings = resolveKeySettings(flags, settings);
  const config = readSuspectsConfig(settings.config.suspects);
  if (flags.planOut !== undefined && /\.csv$/i.test(flags.planOut))
    throw new UsageError(`--plan-out writes JSON Lines (the plan clean --plan applies), not CSV: ${flags.planOut}`);
  if ((flags.key ?? []).length > 1) throw new UsageError('suspects takes one --key, the exact key, e.g. --key device-phone');
  const redactor = flags.redact ? createRedactor() : null;
  const renderer = suspectsRenderer(flags.format, renderContext(settings.target, flags), top);
  // the report is written as the groups are read: memory holds one batch, whatever the table's size
  const output = await openReportStream(flags);
  try {
    await withDatabase(settings.target, (opened) =>
      stoppable(opened, output.outcome, async (database) => {
        const key = await loadOneKey(database.db, settings, keySettings, flags.key?.[0] ?? 'device-phone', 'suspects');
        const options = {
          key,
          config,
          columnMap: settings.columnMap,
          defaultCountry: keySettings.defaultCountry,
          maxPairs,
          truthColumn: flags.truthColumn ?? null,
        };
        // --plan-out: each group's ids, kept until the plan is written after the report's last group
        const planned: string[][] = [];
        const sink: SuspectsSink = {
          counts: (counts) => note(`candidate pairs per block: ${counts.map((c) => `${c.block} ${formatCount(c.pairs)}`).join(', ')}`, flags),
          start: (header) => output.write(renderer.start(header)),
          groups: async (groups) => {
            if (flags.planOut !== undefined) planned.push(...groups.map((group) => group.ids));
            await output.write(renderer.items(redactor === null ? groups : groups.map((group) => redactSuspectGroup(group, redactor))));
          },
        };
        const summary = await withSpinner('comparing', flags, () => findSuspects(database, options, sink));
        if (flags.planOut !== undefined) {
          await writeFileAtomically(flags.planOut, await suspectsPlan(database, key, planned), '--plan-out');
          note(`plan: ${formatCount(planned.length)} groups written to ${flags.planOut}, each "needs review" (docs/suspects.md: reviewing)`, flags);
        }
        await output.write(renderer.end(summary));
      }),
    );
  } catch (error) {
    throw await output.discard(error);
  }
  await output.commit();
  return ExitCode.ok;
}
