import { sql } from 'kysely';

/**
 * The session's temp tables clean works on. `stage` lives for the run (the
 * victim candidates, materialised once and ANALYZEd, BASELINE.md obs. 4);
 * the others are created inside each batch's transaction, ON COMMIT DROP.
 */
export const TEMP = {
  stage: sql.id('pg_temp', 'ld_stage'),
  locked: sql.id('pg_temp', 'ld_locked'),
  members: sql.id('pg_temp', 'ld_members'),
  skipped: sql.id('pg_temp', 'ld_skipped'),
  merge: sql.id('pg_temp', 'ld_merge'),
} as const;
