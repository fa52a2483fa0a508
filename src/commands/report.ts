import { COMMON_EXIT_CODES } from '../cli/exit-codes-help.js';
import { Option } from '@commander-js/extra-typings';
import { defineCommand, type RunContext } from '../cli/command-spec.js';
import type { FlagsOf } from '../cli/flags-of.js';
import { archiveOption, keyOptions, quietOption, tableOptions } from '../cli/options.js';
import { note, withSpinner, writeReport, renderContext } from '../cli/output.js';
import { resolveArchiveSchema, resolveKeySettings, resolveTableSettings } from '../cli/settings.js';
import { resolveDiagnoseSettings } from '../cli/diagnose-flags.js';
import { loadLeadTable } from '../core/lead-table.js';
import { collectReport } from '../core/report/report-data.js';
import { readSuspectsConfig, SUSPECTS_MAX_PAIRS } from '../cli/suspects-config.js';
import { redactReport } from '../core/report/redact-report.js';
import { createRedactor } from '../core/redaction.js';
import { withDatabase } from '../db/with-database.js';
import { stoppable } from '../cli/interrupt.js';
import { ExitCode, UsageError } from '../errors.js';
import { resolveKeys, resolveNamedKeys } from '../keys/resolve-key.js';
import { renderReport } from '../render/report/index.js';
import { diagnosedKey } from './diagnose.js';
import { diagnoseOptions } from '../cli/diagnose-flags.js';

const REPORT_OPTIONS = [
  ...tableOptions(),
  ...keyOptions('the key to diagnose (default: device-phone, or the config default key); every preset is scanned'),
  ...diagnoseOptions(),
  new Option('--output <file.html>', 'the HTML file to write (required)'),
  new Option(
    '--suspects',
    "add near-duplicates the diagnosed key misses (as suspects finds them, with the config's suspects section; tens of seconds on a million rows)",
  ),
  new Option('--no-redact', 'show customer values (phones, e-mails, names) in full; by default every text key value is masked and tagged'),
  archiveOption('where clean keeps its archive and run log (default: lead_dedupe)'),
  quietOption(),
] as const;

type ReportFlags = FlagsOf<typeof REPORT_OPTIONS>;

export const reportCommand = defineCommand({
  name: 'report',
  description: 'one self-contained HTML file: every rule side by side, the diagnosis, constraints and clean-up runs',
  options: REPORT_OPTIONS,
  examples: [
    'lead-dedupe report --database pglite:.lead-dedupe-demo --output report.html',
    'lead-dedupe report --database pglite:.lead-dedupe-demo --output report-raw.html --no-redact',
  ],
  exitCodes: COMMON_EXIT_CODES,
  run: runReport,
});

async function runReport(flags: ReportFlags, _args: string[], { source }: RunContext): Promise<ExitCode> {
  if (flags.output === undefined) throw new UsageError('report needs --output <file.html>');
  const diagnoseSettings = resolveDiagnoseSettings(flags, source);
  const settings = resolveTableSettings(flags);
  const archive = resolveArchiveSchema(flags, settings);
  const keySettings = resolveKeySettings(flags, settings);
  const keyText = diagnosedKey(flags, settings);
  const data = await withDatabase(
    settings.target,
    (opened) =>
      stoppable(opened, 'nothing was written', async (database) => {
        const table = await loadLeadTable(database.db, settings, 'report');
        const [key] = resolveKeys(table, [keyText], keySettings).keys;
        // Every preset and config key, with the same normalisation and NULL rule as scan; the diagnosed key too if it is not one of them.
        const all = resolveNamedKeys(table, keySettings);
        const scanKeys = all.keys.some((k) => k.name === key!.name) ? all.keys.map((k) => (k.name === key!.name ? key! : k)) : [...all.keys, key!];
        return withSpinner('building the report', flags, () =>
          collectReport(database, {
            table,
            scanKeys,
            skippedKeys: all.skipped,
            key: key!,
            settings: diagnoseSettings,
            columnMap: settings.columnMap,
            archiveSchema: archive,
            suspects: flags.suspects
              ? {
                  config: readSuspectsConfig(settings.config.suspects),
                  columnMap: settings.columnMap,
                  defaultCountry: keySettings.defaultCountry,
                  maxPairs: SUSPECTS_MAX_PAIRS,
                }
              : null,
          }),
        );
      }),
    { connections: 3 },
  );
  const shown = flags.redact ? redactReport(data, createRedactor()) : data;
  await writeReport(renderReport(shown, 'html', renderContext(settings.target, flags)), flags);
  note(`report written to ${flags.output}`, flags);
  return ExitCode.ok;
}
