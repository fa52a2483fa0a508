/**
 * The library entry (`import { scan, planClean, applyClean } from 'lead-dedupe'`):
 * the same core functions the CLI calls. They take an open database
 * (`withDatabase`) and typed options, return typed reports, never print and
 * never exit; failures are the typed errors below.
 */
export { withDatabase, openDatabase } from './db/with-database.js';
export { parseDatabaseTarget, type DatabaseTarget } from './db/database-target.js';
export type { Database } from './db/database.js';
export { loadLeadTable, loadOneKey, type LeadTableSettings } from './core/lead-table.js';
export { resolveKeys, resolveKey, type KeySettings } from './keys/resolve-key.js';
export type { LeadTable, ResolvedKey } from './keys/key-definition.js';
export { scan, type ScanOptions } from './scan/scan.js';
export type { ScanReport, KeyReport } from './scan/scan-report.js';
export { judgeSurplus, type SurplusLimit } from './core/surplus-limit.js';
export { exportDetails } from './scan/details.js';
export { planClean } from './clean/preview.js';
export { applyClean, type CleanHooks } from './clean/apply-clean.js';
export type { CleanOptions, CleanResult } from './clean/types.js';
export { exportPlan } from './clean/plan-file/export-plan.js';
export { openPlan, type OpenedPlan } from './clean/plan-file/read-plan.js';
export { checkPlan, type PlanCheck } from './clean/plan-file/check-plan.js';
export { resolvePlanKey } from './clean/plan-file/plan-match.js';
export type { PlanHeader, PlanBodyLine } from './clean/plan-file/plan-format.js';
export { listRuns, listRunsPage } from './clean/runs/runs.js';
export { restoreRun } from './clean/restore/restore.js';
export { planConstraintAdd } from './core/constraint/plan-add.js';
export { addConstraint, applyConstraintAdd } from './core/constraint/apply-add.js';
export { constraintStatus } from './core/constraint/status.js';
export { planConstraintDrop, dropConstraint } from './core/constraint/drop.js';
export { planUpsert } from './core/constraint/upsert.js';
export { scanSince, type IncrementalScanOptions } from './scan/since/scan-since.js';
export type { SinceSpec } from './scan/since/since.js';
export { openDatabaseWatermarks } from './scan/since/database-watermarks.js';
export { watermarkKeyOf, type WatermarkKey, type WatermarkStore } from './scan/since/watermark-key.js';
export { planIndexAdd } from './core/key-index/plan-index.js';
export { applyIndexAdd } from './core/key-index/apply-index.js';
export { dropKeyIndex } from './core/key-index/drop-index.js';
export {
  ExitCode,
  LeadDedupeError,
  UsageError,
  CatalogError,
  ConnectionError,
  SharedSessionError,
  DatabaseError,
  DuplicatesFoundError,
  LockHeldError,
} from './errors.js';
