import { note, withSpinner } from '../cli/output.js';
import type { SinceSettings } from '../cli/since-flags.js';
import { openWatermarkFile } from '../cli/watermark-file.js';
import { openDatabaseWatermarks } from '../core/incremental/database-watermarks.js';
import { findWindowIndexes } from '../core/incremental/key-index.js';
import { scanSince } from '../core/incremental/scan-since.js';
import { watermarkKeyOf, type WatermarkStore } from '../core/incremental/watermark-key.js';
import type { ScanReport } from '../core/scan-report.js';
import type { Database } from '../db/database.js';
import { qualifiedName } from '../db/catalog.js';
import { UsageError } from '../errors.js';
import type { LeadTable, ResolvedKey } from '../keys/key-definition.js';
import { keyCommand, type CommandLineContext } from '../keys/key-command-line.js';
import { requireTimeColumn } from '../keys/resolve-key.js';

export interface IncrementalRun {
  table: LeadTable;
  keys: ResolvedKey[];
  skippedKeys: { name: string; reason: string }[];
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
 */
export async function runIncrementalScan(database: Database, run: IncrementalRun, publish: (report: ScanReport) => Promise<void>): Promise<ScanReport> {
  const { table, keys, settings } = run;
  const windowColumn = windowColumnOf(table, settings);
  let store: WatermarkStore | null = null;
  if (settings.since.kind === 'last') {
    store = settings.stateFile !== null ? await openWatermarkFile(settings.stateFile) : await openDatabaseWatermarks(database, settings.archiveSchema);
  }
  const watermarkKeys = keys.map((key) => watermarkKeyOf(key, windowColumn));
  const watermarks = store === null ? undefined : await store.read(watermarkKeys);
  // The catalog reads behind the hints (a few ms) run before the scan on the same connection rather than beside
  // it, where they would open a second connection for a one-key scan.
  for (const hint of await indexHints(database, run, windowColumn)) note(`lead-dedupe: hint: ${hint}`, { quiet: run.quiet });
  const report = await withSpinner('scanning', { quiet: run.quiet }, () =>
    scanSince(database, { table, keys, skippedKeys: run.skippedKeys, top: run.top, windowColumn, since: settings.since, watermarks }),
  );
  await publish(report);
  if (store !== null) {
    await store.write(report.keys.map((key, index) => ({ key: watermarkKeys[index]!, watermark: new Date(key.until!) })));
  }
  return report;
}

function windowColumnOf(table: LeadTable, settings: SinceSettings): string {
  if (settings.changedColumn !== null) return requireTimeColumn(table.info, settings.changedColumn, '--changed-column');
  if (table.createdColumn !== null) return table.createdColumn;
  throw new UsageError(
    `--since needs a time column: ${qualifiedName(table.info)} has none as created column (${table.createdFallback ?? 'none named'}); name one with --created-column or --changed-column`,
  );
}

/** What would make the scan proportional to the window: an index on the window column, and one on each key's expressions. */
async function indexHints(database: Database, run: IncrementalRun, windowColumn: string): Promise<string[]> {
  const found = await findWindowIndexes(database, run.table, run.keys, windowColumn);
  const hints: string[] = [];
  if (found.windowIndex === null) {
    hints.push(
      `no index on ${windowColumn}: finding the window's rows reads the whole of ${qualifiedName(run.table.info)}; an index on it makes that proportional to the window`,
    );
  }
  for (const [index, key] of run.keys.entries()) {
    if (key.nullsEqual) {
      hints.push(`key ${key.name} treats NULLs as equal: its groups are looked up in one pass over the table, which no index shortens`);
    } else if (found.keyIndexes[index] === null) {
      hints.push(
        `no index on the expressions of key ${key.name}: its groups are looked up in one pass over the table; ${keyCommand(key, ['index', 'add'], ['--execute'], run.commandLine)} builds one`,
      );
    }
  }
  return hints;
}
