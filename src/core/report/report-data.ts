import type { Database } from '../../db/database.js';
import type { LeadTable, ResolvedKey } from '../../keys/key-definition.js';
import type { ConstraintStatus } from '../constraint/status.js';
import { constraintStatus } from '../constraint/status.js';
import { listRuns, type RunSummary } from '../../clean/runs/runs.js';
import { diagnose } from '../diagnose/diagnose.js';
import type { DiagnoseReport } from '../diagnose/diagnose-report.js';
import type { DiagnoseSettings } from '../diagnose/diagnose-settings.js';
import { scan } from '../../scan/scan.js';
import type { ScanReport } from '../../scan/scan-report.js';
import type { SkippedKey } from '../../keys/skipped-keys.js';
import { collectSuspects, type SuspectsOptions, type SuspectsReport } from '../../suspects/suspects.js';

/** Everything the HTML report shows: the same typed results scan, diagnose, constraint status and runs return. */
export interface ReportData {
  generatedAt: string;
  scan: ScanReport;
  diagnosis: DiagnoseReport;
  constraints: ConstraintStatus;
  /** The last clean-up runs on this table; empty when there is no archive. */
  runs: RunSummary[];
  /** Near-duplicates the diagnosed key misses (report --suspects); null when not asked for. */
  suspects: SuspectsReport | null;
  /** true once redactReport masked the customer values. */
  redacted: boolean;
}

export interface ReportOptions {
  table: LeadTable;
  /** Every preset and config key the table can hold, plus the diagnosed key. */
  scanKeys: ResolvedKey[];
  skippedKeys: SkippedKey[];
  key: ResolvedKey;
  settings: DiagnoseSettings;
  columnMap: Record<string, string>;
  archiveSchema: string;
  /** Also look for near-duplicates the key misses (suspects, with its options); null: not. */
  suspects: Omit<SuspectsOptions, 'key' | 'truthColumn'> | null;
}

/** Read-only, one result after the other (each already runs its statements side by side). */
export async function collectReport(database: Database, options: ReportOptions): Promise<ReportData> {
  const scanned = await scan(database, { table: options.table, keys: options.scanKeys, skippedKeys: options.skippedKeys, top: 5 });
  const diagnosis = await diagnose(database, { key: options.key, settings: options.settings, columnMap: options.columnMap });
  const constraints = await constraintStatus(database, { table: options.table, keys: options.scanKeys, skippedKeys: options.skippedKeys });
  const runs = await listRuns(database, { archiveSchema: options.archiveSchema, table: scanned.table, limit: 10 });
  const suspected = options.suspects === null ? null : await collectSuspects(database, { ...options.suspects, key: options.key, truthColumn: null });
  return { generatedAt: new Date().toISOString(), scan: scanned, diagnosis, constraints, runs, suspects: suspected, redacted: false };
}
