import type { CleanMode, KeepPolicy } from './model.js';

/** What clean and restore do when nothing says otherwise (docs/clean.md documents each). */
export const CLEAN_DEFAULTS = {
  keep: 'oldest' as KeepPolicy,
  mode: 'merge' as CleanMode,
  batchSize: 1000,
  batchRows: 10_000,
  pauseMs: 0,
  lockTimeoutMs: 5_000,
  statementTimeoutMs: 60_000,
  archiveSchema: 'lead_dedupe',
  retries: 3,
  sampleGroups: 5,
};
