/**
 * Typed errors. Core code throws these; `program/main.ts` is the only place that
 * turns them into a message and an exit code (see docs/exit-codes.md).
 */
export const ExitCode = {
  ok: 0,
  runtime: 1,
  usage: 2,
  duplicatesFound: 3,
  lockHeld: 4,
  /** Stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report Ctrl-C). */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export abstract class LeadDedupeError extends Error {
  abstract readonly exitCode: ExitCode;
  constructor(
    message: string,
    /** Commands the message points to ("the … below"): printed after it, one a line, each runnable as printed. */
    readonly commands: readonly string[] = [],
  ) {
    super(message);
  }
}

/** A flag, argument or config value is wrong. Nothing was touched. */
export class UsageError extends LeadDedupeError {
  readonly exitCode = ExitCode.usage;
}

/** A table or column named by the user does not exist in the catalog. */
export class CatalogError extends LeadDedupeError {
  readonly exitCode = ExitCode.usage;
}

/** A writing command was pointed at a hot standby or a read-only session. Nothing was touched. */
export class ReadOnlyServerError extends LeadDedupeError {
  readonly exitCode = ExitCode.usage;
}

/**
 * A statement would run on a server session other than the one the tool set up, or the session it was
 * given already belongs to another client: a pooler in transaction or statement pooling mode (PgBouncer
 * pool_mode = transaction) between the tool and the server. Thrown before any work of the transaction;
 * exit 2 like other configuration errors (clean turns it into exit 1 once a batch is committed).
 */
export class SharedSessionError extends LeadDedupeError {
  readonly exitCode = ExitCode.usage;
  constructor(
    message: string,
    readonly fields: { readonly expectedPid: number | null; readonly actualPid: number },
  ) {
    super(message);
  }
}

/** The database could not be reached or refused the connection. */
export class ConnectionError extends LeadDedupeError {
  readonly exitCode = ExitCode.runtime;
}

/** A statement failed at run time; `sql` is kept for the message. */
export class DatabaseError extends LeadDedupeError {
  readonly exitCode = ExitCode.runtime;
}

/** A result row lacks a value the statement must give (a NULL where a number must be): a bug, or a table changed under the run. */
export class UnexpectedRowError extends DatabaseError {
  constructor(
    message: string,
    readonly fields: { readonly column: string },
  ) {
    super(message);
  }
}

/** Duplicates exist where the caller asked for none (--fail-on-duplicates, --max-surplus, a constraint build that failed on them). */
export class DuplicatesFoundError extends LeadDedupeError {
  readonly exitCode = ExitCode.duplicatesFound;
}

/**
 * What a lock that could not be had was on: a table another run holds (clean, restore: the run and the session
 * holding it, null when this user cannot see them), a table an ALTER could not lock within lock_timeout, or an
 * output file another run is writing.
 */
export type LockHeldFields =
  | { readonly table: string; readonly runId: number | null; readonly pid: number | null }
  | { readonly table: string; readonly lockTimeout: string }
  | { readonly file: string };

/** Another run holds the per-table advisory lock, an ALTER hit lock_timeout, or another run writes the output file. */
export class LockHeldError extends LeadDedupeError {
  readonly exitCode = ExitCode.lockHeld;
  constructor(
    message: string,
    readonly fields: LockHeldFields,
    commands: readonly string[] = [],
  ) {
    super(message, commands);
  }
}

/** An output file could not be written after the checks passed (disk full, folder removed meanwhile). */
export class FileWriteError extends LeadDedupeError {
  readonly exitCode = ExitCode.runtime;
}

/** SIGINT or SIGTERM stopped the command; what was committed is said in the message. */
export class InterruptedError extends LeadDedupeError {
  readonly exitCode = ExitCode.interrupted;
}
