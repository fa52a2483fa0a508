import { DatabaseError, ExitCode, LeadDedupeError } from '../errors.js';

/**
 * The database user lacks a right the run needs (DELETE on the table,
 * CREATE for the archive schema, …). Raised before anything changes; exit 2,
 * like other set-up problems that a retry cannot fix.
 */
export class PermissionError extends LeadDedupeError {
  readonly exitCode = ExitCode.usage;
  constructor(
    message: string,
    /** The database user, and each right it lacks as the message names it (`DELETE on public.leads`, `ownership of public.leads`). */
    readonly fields: { readonly user: string; readonly missing: readonly string[] },
  ) {
    super(message);
  }
}

/**
 * What a restore would break: the run, the table, and the column (a NOT NULL one left NULL), the constraint, or
 * the number of rows whose id is in the table again; null where PostgreSQL's error did not name it.
 */
export interface RestoreConflict {
  readonly runId: number | null;
  readonly table: string;
  readonly column?: string | null;
  readonly constraint?: string | null;
  readonly rows?: number;
}

/** A restore would break a unique constraint (or the data changed since); nothing was changed. Exit 1. */
export class RestoreConflictError extends DatabaseError {
  constructor(
    message: string,
    readonly fields: RestoreConflict,
    commands: readonly string[] = [],
  ) {
    super(message, commands);
  }
}
