import { DatabaseError, ExitCode, LeadDedupeError } from '../errors.js';

/**
 * The database user lacks a right the run needs (DELETE on the table,
 * CREATE for the archive schema, …). Raised before anything changes; exit 2,
 * like other set-up problems that a retry cannot fix.
 */
export class PermissionError extends LeadDedupeError {
  readonly exitCode = ExitCode.usage;
}

/** A restore would break a unique constraint (or the data changed since); nothing was changed. Exit 1. */
export class RestoreConflictError extends DatabaseError {}
