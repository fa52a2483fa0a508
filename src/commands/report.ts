import type { ActionRunner } from '../cli/program.js';
import { Command } from 'commander';
import { addKeyOptions, addTableOptions } from '../cli/common-options.js';
import { note, withSpinner, writeReport } from '../cli/output.js';
import { resolveKeySettings, resolveTableSettings } from '../cli/settings.js';
import { archiveSchema } from '../core/clean/clean-settings.js';
import { resolveDiagnoseSettings } from '../core/diagnose/diagnose-settings.js';
import { loadLeadTable } from '../core/lead-table.js';
import { collectReport } from '../core/report/report-data.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode, UsageError } from '../errors.js';
import { resolveKeys } from '../keys/resolve-key.js';
import { renderReportHtml } from '../render/report-html/report-html.js';
import { addDiagnoseOptions, diagnosedKey, type DiagnoseCommandFlags } from './diagnose.js';

interface ReportFlags extends DiagnoseCommandFlags {
  output?: string;
  archiveSchema?: string;
  quiet?: boolean;
}

export function reportCommand(run: ActionRunner): Command {
  const command = new Command('report').description('one self-contained HTML file: every rule side by side, the diagnosis, constraints and clean-up runs');
  addTableOptions(command);
  addKeyOptions(command, 'the key to diagnose (default: device-phone, or the config default key); every preset is scanned');
  addDiagnoseOptions(command);
  return command
    .option('--output <file.html>', 'the HTML file to write (required)')
    .option('--archive-schema <name>', 'where clean keeps its archive and run log', 'lead_dedupe')
    .option('--quiet', 'print nothing but errors')
    .action((flags: ReportFlags) => run(() => runReport(flags)));
}

async function runReport(flags: ReportFlags): Promise<ExitCode> {
  if (flags.output === undefined) throw new UsageError('report needs --output <file.html>');
  const diagnoseSettings = resolveDiagnoseSettings(flags);
  const archive = archiveSchema(flags.archiveSchema);
  const settings = resolveTableSettings(flags);
  const keySettings = resolveKeySettings(flags, settings);
  const keyText = diagnosedKey(flags, settings);
  const data = await withDatabase(
    settings.target,
    async (database) => {
      const table = await loadLeadTable(database.db, settings, 'report');
      const [key] = resolveKeys(table, [keyText], keySettings).keys;
      // Every preset and config key, with the same normalisation and NULL rule as scan; the diagnosed key too if it is not one of them.
      const all = resolveKeys(table, [], keySettings);
      const scanKeys = all.keys.some((k) => k.name === key!.name) ? all.keys.map((k) => (k.name === key!.name ? key! : k)) : [...all.keys, key!];
      return withSpinner('building the report', flags, () =>
        collectReport(database, { table, scanKeys, skippedKeys: all.skipped, key: key!, settings: diagnoseSettings, columnMap: settings.columnMap, archiveSchema: archive }),
      );
    },
    { connections: 3 },
  );
  await writeReport(renderReportHtml(data), flags);
  note(`report written to ${flags.output}`, flags);
  return ExitCode.ok;
}

