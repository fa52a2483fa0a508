import { note, withSpinner } from '../cli/output.js';
import type { SinceSettings } from '../cli/since-flags.js';
import { openWatermarkFile } from '../cli/watermark-file.js';
import { openDatabaseWatermarks } from '../scan/since/database-watermarks.js';
import { findWindowIndexes, type WindowIndexes } from '../core/incremental/key-index.js';
import { scanSince } from '../scan/since/scan-since.js';
import { watermarkKeyOf, type WatermarkStore } from '../scan/since/watermark-key.js';
import type { ScanReport } from '../scan/scan-report.js';
import type { Database } from '../db/database.js';
import { qualifiedName } from '../db/catalog.js';
import { UsageError } from '../errors.js';
import type { LeadTable, ResolvedKey } from '../keys/key-definition.js';
import { keyCommand, type CommandLineContext } from '../keys/key-command-line.js';
import { requireTimeColumn } from '../keys/resolve-key.js';
import type { SkippedKey } from '../keys/skipped-keys.js';

export interface IncrementalRun {
  table: LeadTable;
  keys: ResolvedKey[];
  skippedKeys: SkippedKey[];
  top: number;
  settings: SinceSettings;
  commandLine: CommandLineContext;
  quiet: boolean;
}

/**
 * `scan --since`: checks what the window needs (a time column, a place for
 * the watermarks) before scanning, names on stderr the indexes that would
 * make it fast, scans, hands the report to `publish` (which writes every
 * output), and only then moves the watermarks: a run that fails anywhere
 * before leaves them where they were, so the next run covers its window again.
 * What the window could not place or see is a warning line on stderr (even
 * with --quiet: a cron job must not stay green over it) and in the report.
 */
export async function runIncrementalScan(database: Database, run: IncrementalRun, publish: (report: ScanReport) => Promise<void>): Promise<ScanReport> {
  const { table, keys, settings } = run;
  const windowColumns = windowColumnsOf(table, settings);
  let store: WatermarkStore | null = null;
  if (settings.since.kind === 'last') {
    store = settings.stateFile !== null ? await openWatermarkFile(settings.stateFile) : await openDatabaseWatermarks(database, settings.archiveSchema);
  }
  const watermarkKeys = keys.map((key) => watermarkKeyOf(key, windowColumns.at(-1)!));
  const watermarks = store === null ? undefined : await store.read(watermarkKeys);
  // The catalog reads behind the hints (a few ms) run before the scan on the same connection rather than beside
  // it, where they would open a second connection for a one-key scan.
  for (const hint of await indexHints(database, run, windowColumns)) note(`lead-dedupe: hint: ${hint}`, { quiet: run.quiet });
  const { report, states } = await withSpinner('scanning', { quiet: run.quiet }, () =>
    scanSince(database, {
      table,
      keys,
      skippedKeys: run.skippedKeys,
      top: run.top,
      windowColumns,
      since: settings.since,
      watermarks,
      storeLimitation: store?.limitation ?? null,
    }),
  );
  for (const warning of report.warnings ?? []) process.stderr.write(`lead-dedupe: warning: ${warning}\n`);
  const held = report.watermark?.heldBack;
  if (held) {
    note(
      `lead-dedupe: the watermark is held back to ${held.since}: a transaction open since then (pid ${held.pid}${held.application === '' ? '' : `, ${held.application}`}) may still commit rows created then; the next run looks from there`,
      { quiet: run.quiet },
    );
  }
  await publish(report);
  if (store !== null && states !== null) {
    await store.write(states.map((state, index) => ({ key: watermarkKeys[index]!, state })));
  }
  return report;
}

/** The created column, and --changed-column in addition: a changed row counts, and so does a plain insert that never changed. */
function windowColumnsOf(table: LeadTable, settings: SinceSettings): string[] {
  const changed = settings.changedColumn === null ? null : requireTimeColumn(table.info, settings.changedColumn, '--changed-column');
  const columns = [table.createdColumn, changed].filter((column): column is string => column !== null);
  if (columns.length > 0) return [...new Set(columns)];
  throw new UsageError(
    `--since needs a time column: ${qualifiedName(table.info)} has none as created column (${table.createdFallback ?? 'none named'}); name one with --created-column or --changed-column`,
  );
}

/** What would make the scan proportional to the window: an index on the window column, and one on each key's expressions. */
async function indexHints(database: Database, run: IncrementalRun, windowColumns: string[]): Promise<string[]> {
  const hints: string[] = [];
  let found: WindowIndexes | null = null;
  for (const windowColumn of windowColumns) {
    found = await findWindowIndexes(database, run.table, run.keys, windowColumn);
    if (found.windowIndex === null) {
      hints.push(
        `no index on ${windowColumn}: finding the window's rows reads the whole of ${qualifiedName(run.table.info)}; an index on it makes that proportional to the window`,
      );
    }
  }
  if (found === null) return hints;
  for (const [index, key] of run.keys.entries()) {
    if (key.nullsEqual) {
      hints.push(`key ${key.name} treats NULLs as equal: its groups are looked up in one pass over the table, which no index shortens`);
    } else if (found.keyIndexes[index] === null) {
      hints.push(
        `no index on the expressions of key ${key.name}: its groups are looked up in one pass over the table; build one with: ${keyCommand(key, ['index', 'add'], ['--execute'], run.commandLine)}`,
      );
    }
  }
  return hints;
}
