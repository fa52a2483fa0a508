import { COMMON_EXIT_CODES } from '../cli/exit-codes-help.js';
import { Option } from '@commander-js/extra-typings';
import { defineCommand, type RunContext } from '../cli/command-spec.js';
import type { FlagsOf } from '../cli/flags-of.js';
import { keyOptions, outputOptions, tableOptions } from '../cli/options.js';
import { stoppable } from '../cli/interrupt.js';
import { note, withSpinner, writeReport, renderContext } from '../cli/output.js';
import { writeFileAtomically } from '../cli/atomic-file.js';
import { surplusLimitFlag } from '../cli/surplus-limit-flag.js';
import { resolveKeySettings, resolveTableSettings } from '../cli/settings.js';
import { writeDetailsFile } from '../cli/details-file.js';
import { loadLeadTable } from '../core/lead-table.js';
import { scan, scanKeyParts, scanUsesParallelWorkers } from '../scan/scan.js';
import { canScanFromExport, scanFromExport } from '../scan/scan-from-export.js';
import { judgeSurplus } from '../core/surplus-limit.js';
import { withDatabase } from '../db/with-database.js';
import { independentSessions, withSharedSnapshot, type ReadSessions } from '../db/shared-snapshot.js';
import { ExitCode } from '../errors.js';
import { optionalWholeNumber, WHOLE_RANGES } from '../cli/parse/whole-number.js';
import { resolveKeys } from '../keys/resolve-key.js';
import { formatCount } from '../render/common/format.js';
import { renderScan, SCAN_FORMATS } from '../render/scan/index.js';
import { renderScanMetrics } from '../render/scan/prometheus.js';
import { resolveSinceSettings, sinceOptions } from '../cli/since-flags.js';
import { UsageError } from '../errors.js';
import type { ScanReport } from '../scan/scan-report.js';
import { createFileRedactor } from '../core/redaction.js';
import { redactScan } from '../scan/redact-scan.js';
import { runIncrementalScan } from './scan-since.js';

const SCAN_OPTIONS = [
  ...tableOptions(),
  ...keyOptions('preset (device-phone, device-phone-niche, device-user-phone-niche, user-phone, phone) or columns a,b,c (repeatable)'),
  ...outputOptions(SCAN_FORMATS),
  new Option('--top <n>', 'largest groups to list per key').default('10'),
  new Option('--details <file.csv>', 'also write every row in a duplicate group to a CSV file (streamed)'),
  new Option('--redact', 'mask customer values in the report and the --details file (equal values keep equal tags); see docs/privacy.md'),
  new Option('--max-surplus <n>', 'exit 3 when any scanned key has more than n surplus rows; the report names those keys'),
  new Option('--fail-on-duplicates', 'exit 3 when any scanned key has duplicates (the same as --max-surplus 0)'),
  new Option('--metrics-file <path>', "after a successful scan, write its figures for Prometheus (node_exporter's textfile collector)"),
  new Option('--jobs <n>', 'server connections scanning keys, or the parts of one key, in parallel').default('2'),
  ...sinceOptions(),
] as const;

type ScanFlags = FlagsOf<typeof SCAN_OPTIONS>;

export const scanCommand = defineCommand({
  name: 'scan',
  description: 'count duplicates under each candidate key (all presets when no --key)',
  options: SCAN_OPTIONS,
  examples: [
    'lead-dedupe scan --database postgres://dba@127.0.0.1/crm',
    'lead-dedupe scan --key device-phone --normalize phone=e164 --default-country MY --details groups.csv',
    'lead-dedupe scan --key device-phone --fail-on-duplicates --quiet   # cron: exit 3 when any',
    'lead-dedupe scan --key device-phone --since last --max-surplus 0 --metrics-file /var/lib/prometheus/node-exporter/lead_dedupe.prom --quiet   # cron',
  ],
  exitCodes: {
    ...COMMON_EXIT_CODES,
    [ExitCode.duplicatesFound]: 'a key above --max-surplus (--fail-on-duplicates: any duplicates; with --since: new surplus); the report is still written',
    [ExitCode.lockHeld]: 'another run held the lock of --state-file: the report is written, the watermarks did not move',
    [ExitCode.interrupted]: 'stopped by SIGINT/SIGTERM; nothing written, no watermark moved',
  },
  run: runScan,
});

async function runScan(flags: ScanFlags, _args: string[], { source }: RunContext): Promise<ExitCode> {
  const top = optionalWholeNumber(flags.top, source('--top'), WHOLE_RANGES.top, 10);
  const jobs = optionalWholeNumber(flags.jobs, source('--jobs'), WHOLE_RANGES.jobs, 2);
  const maxSurplus = surplusLimitFlag(flags, source);
  const settings = resolveTableSettings(flags);
  const keySettings = resolveKeySettings(flags, settings);
  // Judges the limit, writes the report, then the metrics: last, so a run that failed anywhere (the report's file
  // included) leaves the previous metrics as they were. Incremental scans publish before their watermarks move.
  const judge = (scanned: ScanReport): ScanReport => (maxSurplus === null ? scanned : { ...scanned, surplusLimit: judgeSurplus(scanned.keys, maxSurplus) });
  // One redactor for the run: a value in the report and in --details carries the same tag.
  const redactor = flags.redact ? createFileRedactor() : null;
  const publish = async (scanned: ScanReport): Promise<void> => {
    const judged = redactor === null ? judge(scanned) : redactScan(judge(scanned), redactor.value);
    const context = renderContext(settings.target, flags);
    await writeReport(await renderScan(judged, flags.format, context), flags);
    if (flags.metricsFile !== undefined) {
      await writeFileAtomically(flags.metricsFile, await renderScanMetrics(judged, new Date(context.generatedAt)), '--metrics-file', 'shared');
    }
  };
  const exitCodeOf = (scanned: ScanReport): ExitCode => ((judge(scanned).surplusLimit?.keysAbove.length ?? 0) > 0 ? ExitCode.duplicatesFound : ExitCode.ok);
  const sinceSettings = resolveSinceSettings(flags, source, settings.archiveSchema);
  if (sinceSettings !== null) {
    if (flags.details !== undefined) throw new UsageError('--details exports every duplicate group of the table; it does not combine with --since');
    // The report is written inside, before the watermarks move; a signal cancels the scan and leaves them where they were.
    const report = await withDatabase(
      settings.target,
      (opened) =>
        stoppable(opened, 'no watermark moved', async (database) => {
          const table = await loadLeadTable(database.db, settings, 'scan');
          const { keys, skipped } = resolveKeys(table, flags.key ?? [], keySettings);
          const run = { table, keys, skippedKeys: skipped, top, settings: sinceSettings, commandLine: settings.commandLine, quiet: flags.quiet ?? false };
          return runIncrementalScan(database, run, publish);
        }),
      { connections: jobs },
    );
    const code = exitCodeOf(report);
    // The alert (exit 3) outranks --strict: both are non-zero, and 3 is what the run was asked to watch for. --strict
    // is exit 1 (no code of its own: every command's --help lists the codes): the run could not vouch for its window.
    if (code === ExitCode.ok && sinceSettings.strict && (report.warnings?.length ?? 0) > 0) {
      process.stderr.write(`lead-dedupe: --strict: ${report.warnings!.length} warning(s) above; the report and the watermarks were written\n`);
      return ExitCode.runtime;
    }
    return code;
  }
  const keyParts = scanKeyParts(flags.key?.length ?? 0, flags.details !== undefined, jobs);
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
        const options = { table, keys, skippedKeys: skipped, top, parts: keyParts };
        // Where it can, the report's figures come from the export's own rows: one aggregate per key, not two.
        const fromExport = detailsPath !== undefined && (await canScanFromExport(database, options));
        const scanAndExport = (sessions: ReadSessions) =>
          fromExport
            ? scanFromExport(options, sessions, (figures) => writeDetailsFile(database, keys, detailsPath, sessions, redactor, figures))
            : Promise.allSettled([
                scan(database, options, sessions),
                detailsPath === undefined ? null : writeDetailsFile(database, keys, detailsPath, sessions, redactor),
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
    // With --details: one more for the export and one that holds the shared snapshot; split into parts,
    // one for the row count beside the parts and one that holds their shared snapshot.
    {
      connections: jobs + (flags.details === undefined && keyParts === 1 ? 0 : 2),
      parallelWorkers: scanUsesParallelWorkers(flags.key?.length ?? 0, flags.details !== undefined),
    },
  );
  await publish(report);
  return exitCodeOf(report);
}
