import type { ActionRunner } from '../cli/program.js';
import { Command, Option } from 'commander';
import { addKeyOptions, addOutputOptions, addTableOptions, type KeyFlags, type OutputFlags, type TableFlags } from '../cli/common-options.js';
import { withSpinner, writeReport } from '../cli/output.js';
import { resolveKeySettings, resolveTableSettings, type TableSettings } from '../cli/settings.js';
import { diagnose } from '../core/diagnose/diagnose.js';
import { resolveDiagnoseSettings, type DiagnoseFlagValues } from '../core/diagnose/diagnose-settings.js';
import { loadOneKey } from '../core/lead-table.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode, UsageError } from '../errors.js';
import { renderDiagnose } from '../render/render-diagnose.js';

export interface DiagnoseCommandFlags extends TableFlags, KeyFlags, DiagnoseFlagValues {}
type Flags = DiagnoseCommandFlags & OutputFlags;

/** diagnose's own flags; `report` takes them too. */
export function addDiagnoseOptions(command: Command): Command {
  return command
    .option('--race-window <duration>', 'a copy this soon after the previous one is a concurrent call (500ms, 2s, 1m)', '1s')
    .option('--retry-window <duration>', 'a copy this soon after the previous one is a retry; later ones are resubmissions', '10m')
    .option('--days <n>', 'days of trend, counted back from the newest created time', '30')
    .addOption(new Option('--interval <interval>', 'trend per day or week (UTC)').choices(['day', 'week']).default('day'))
    .option('--by <column>', 'split the surplus and its causes by this column (top 20 values), e.g. source');
}

export function diagnoseCommand(run: ActionRunner): Command {
  const command = new Command('diagnose').description('why duplicates arise under one key: timing, trend, what copies change, and four answers');
  addTableOptions(command);
  addKeyOptions(command, 'the key to diagnose: a preset or columns a,b,c (default: device-phone, or the config default key)');
  addDiagnoseOptions(command);
  addOutputOptions(command);
  return command.action((flags: Flags) => run(() => runDiagnose(flags)));
}

/** The one key diagnose and report look at: --key, the config's `commands.diagnose.key`, or device-phone. */
export function diagnosedKey(flags: KeyFlags, settings: TableSettings): string {
  if (flags.key.length > 1) throw new UsageError('diagnose takes one --key at a time, e.g. --key device-phone');
  const configured = settings.config.commands?.diagnose?.key;
  if (configured !== undefined && typeof configured !== 'string') throw new UsageError('config "commands.diagnose.key" must be a key name');
  return flags.key[0] ?? configured ?? 'device-phone';
}

async function runDiagnose(flags: Flags): Promise<ExitCode> {
  const diagnoseSettings = resolveDiagnoseSettings(flags);
  const settings = resolveTableSettings(flags);
  const keySettings = resolveKeySettings(flags, settings);
  const keyText = diagnosedKey(flags, settings);
  const report = await withDatabase(
    settings.target,
    async (database) => {
      const key = await loadOneKey(database.db, settings, keySettings, keyText, 'diagnose');
      return withSpinner('diagnosing', flags, () => diagnose(database, { key, settings: diagnoseSettings, columnMap: settings.columnMap }));
    },
    { connections: 3 },
  );
  await writeReport(renderDiagnose(report, flags.format), flags);
  return ExitCode.ok;
}
