import { Option } from 'commander';
import type { CommandSpec, RunContext } from '../cli/command-spec.js';
import { keyOptions, outputOptions, tableOptions, type KeyFlags, type OutputFlags, type TableFlags } from '../cli/options.js';
import { stoppable } from '../cli/interrupt.js';
import { note, withSpinner, writeReport, renderContext } from '../cli/output.js';
import { resolveKeySettings, resolveTableSettings } from '../cli/settings.js';
import { writeDetailsFile } from '../cli/details-file.js';
import { loadLeadTable } from '../core/lead-table.js';
import { scan } from '../core/scan.js';
import { hasDuplicates } from '../core/scan-report.js';
import { withDatabase } from '../db/with-database.js';
import { independentSessions, withSharedSnapshot, type ReadSessions } from '../db/shared-snapshot.js';
import { ExitCode } from '../errors.js';
import { optionalWholeNumber, WHOLE_RANGES } from '../cli/parse/whole-number.js';
import { resolveKeys } from '../keys/resolve-key.js';
import { formatCount } from '../render/common/format.js';
import { renderScan } from '../render/scan/index.js';

interface ScanFlags extends TableFlags, KeyFlags, OutputFlags {
  top?: string;
  details?: string;
  failOnDuplicates?: boolean;
  jobs?: string;
}

export const scanCommand: CommandSpec<ScanFlags> = {
  name: 'scan',
  description: 'count duplicates under each candidate key (all presets when no --key)',
  options: [
    ...tableOptions(),
    ...keyOptions('preset (device-phone, device-phone-niche, device-user-phone-niche, user-phone, phone) or columns a,b,c (repeatable)'),
    ...outputOptions(),
    new Option('--top <n>', 'largest groups to list per key').default('10'),
    new Option('--details <file.csv>', 'also write every row in a duplicate group to a CSV file (streamed)'),
    new Option('--fail-on-duplicates', 'exit 3 when any scanned key has duplicates'),
    new Option('--jobs <n>', 'server connections scanning keys in parallel').default('2'),
  ],
  examples: [
    'lead-dedupe scan --database postgres://dba@127.0.0.1/crm',
    'lead-dedupe scan --key device-phone --normalize phone=e164 --default-country MY --details groups.csv',
    'lead-dedupe scan --key device-phone --fail-on-duplicates --quiet   # cron: exit 3 when any',
  ],
  run: runScan,
};

async function runScan(flags: ScanFlags, _args: string[], { source }: RunContext): Promise<ExitCode> {
  const top = optionalWholeNumber(flags.top, source('--top'), WHOLE_RANGES.top, 10);
  const jobs = optionalWholeNumber(flags.jobs, source('--jobs'), WHOLE_RANGES.jobs, 2);
  const settings = resolveTableSettings(flags);
  const keySettings = resolveKeySettings(flags, settings);
  // A signal cancels the scan's statements and the details export; exit 130, nothing written.
  const report = await withDatabase(
    settings.target,
    (opened) =>
      stoppable(opened, 'nothing was written', async (database) => {
        const table = await loadLeadTable(database.db, settings, 'scan');
        const { keys, skipped } = resolveKeys(table, flags.key ?? [], keySettings);
        // The details export runs beside the scan, on a connection of its own, reading the scan's snapshot (so the
        // CSV counts what the report counts); its file goes into place only if both succeed.
        const detailsPath = flags.details;
        const scanAndExport = (sessions: ReadSessions) =>
          Promise.allSettled([
            scan(database, { table, keys, skippedKeys: skipped, top }, sessions),
            detailsPath === undefined ? null : writeDetailsFile(database, keys, detailsPath, sessions),
          ]);
        const [scanned, exported] = await withSpinner('scanning', flags, () =>
          detailsPath === undefined ? scanAndExport(independentSessions(database)) : withSharedSnapshot(database, scanAndExport),
        );
        const details = exported.status === 'fulfilled' ? exported.value : null;
        if (scanned.status === 'rejected') throw (await details?.discard(scanned.reason)) ?? scanned.reason;
        if (exported.status === 'rejected') throw exported.reason;
        const result = scanned.value;
        if (details !== null) {
          await details.commit();
          const total = Object.values(details.summary.rowsPerKey).reduce((a, b) => a + b, 0);
          note(`details: ${formatCount(total)} rows written to ${flags.details}`, flags);
        }
        return result;
      }),
    // With --details: one more for the export and one that holds the shared snapshot.
    { connections: jobs + (flags.details === undefined ? 0 : 2) },
  );
  await writeReport(renderScan(report, flags.format, renderContext(settings.target, flags)), flags);
  return flags.failOnDuplicates && hasDuplicates(report) ? ExitCode.duplicatesFound : ExitCode.ok;
}
