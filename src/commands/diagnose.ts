import { COMMON_EXIT_CODES } from '../cli/exit-codes-help.js';
import { Option } from 'commander';
import type { CommandSpec, RunContext } from '../cli/command-spec.js';
import { keyOptions, outputOptions, tableOptions, type KeyFlags, type OutputFlags, type TableFlags } from '../cli/options.js';
import { withSpinner, writeReport, renderContext } from '../cli/output.js';
import { resolveKeySettings, resolveTableSettings, type TableSettings } from '../cli/settings.js';
import { diagnose } from '../core/diagnose/diagnose.js';
import { resolveDiagnoseSettings, type DiagnoseFlagValues } from '../cli/diagnose-flags.js';
import { loadOneKey } from '../core/lead-table.js';
import { withDatabase } from '../db/with-database.js';
import { stoppable } from '../cli/interrupt.js';
import { ExitCode, UsageError } from '../errors.js';
import { renderDiagnose } from '../render/diagnose/index.js';

export interface DiagnoseCommandFlags extends TableFlags, KeyFlags, DiagnoseFlagValues {}
type Flags = DiagnoseCommandFlags & OutputFlags;

/** diagnose's own flags; `report` takes them too. */
export function diagnoseOptions(): Option[] {
  return [
    new Option('--race-window <duration>', 'a copy this soon after the previous one is a concurrent call (500ms, 2s, 1m)').default('1s'),
    new Option('--retry-window <duration>', 'a copy this soon after the previous one is a retry; later ones are resubmissions').default('10m'),
    new Option('--days <n>', 'days of trend, counted back from the newest created time').default('30'),
    new Option('--interval <interval>', 'trend per day or week (UTC)').choices(['day', 'week']).default('day'),
    new Option('--by <column>', 'split the surplus and its causes by this column (top 20 values), e.g. source'),
  ];
}

export const diagnoseCommand: CommandSpec<Flags> = {
  name: 'diagnose',
  description: 'why duplicates arise under one key: timing, trend, what copies change, and four answers',
  options: [
    ...tableOptions(),
    ...keyOptions('the key to diagnose: a preset or columns a,b,c (default: device-phone, or the config default key)'),
    ...diagnoseOptions(),
    ...outputOptions(),
  ],
  examples: ['lead-dedupe diagnose --key device-phone', 'lead-dedupe diagnose --key device-phone --by source --race-window 500ms --format json'],
  exitCodes: COMMON_EXIT_CODES,
  run: runDiagnose,
};

/** The one key diagnose and report look at: --key, the config's `commands.diagnose.key`, or device-phone. */
export function diagnosedKey(flags: KeyFlags, settings: TableSettings): string {
  const keys = flags.key ?? [];
  if (keys.length > 1) throw new UsageError('diagnose takes one --key at a time, e.g. --key device-phone');
  const configured = settings.config.commands?.diagnose?.key;
  if (configured !== undefined && typeof configured !== 'string') throw new UsageError('config "commands.diagnose.key" must be a key name');
  return keys[0] ?? configured ?? 'device-phone';
}

async function runDiagnose(flags: Flags, _args: string[], { source }: RunContext): Promise<ExitCode> {
  const diagnoseSettings = resolveDiagnoseSettings(flags, source);
  const settings = resolveTableSettings(flags);
  const keySettings = resolveKeySettings(flags, settings);
  const keyText = diagnosedKey(flags, settings);
  const report = await withDatabase(
    settings.target,
    (opened) =>
      stoppable(opened, 'nothing was written', async (database) => {
        const key = await loadOneKey(database.db, settings, keySettings, keyText, 'diagnose');
        return withSpinner('diagnosing', flags, () =>
          diagnose(database, { key, settings: diagnoseSettings, columnMap: settings.columnMap, commandLine: settings.commandLine }),
        );
      }),
    { connections: 3 },
  );
  await writeReport(renderDiagnose(report, flags.format, renderContext(settings.target, flags)), flags);
  return ExitCode.ok;
}
