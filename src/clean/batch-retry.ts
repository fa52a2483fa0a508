import { firstLineOf, sqlStateOf } from '../db/database-error.js';
import type { CleanOptions } from './types.js';
import { describeBlockers, type LockBlocker } from '../db/lock-waits.js';

/** SQLSTATEs that mean "try this batch again later": lock/statement timeout, deadlock, serialization failure. */
const RETRYABLE = new Set(['55P03', '57014', '40P01', '40001']);

/**
 * Whether a failed batch may succeed when retried. A unique violation only
 * does when it is on a child table the batch re-points (a child row written
 * between the batch's unique check and its re-point: the retry's check then
 * sees it and skips that group). Anywhere else (the archive's primary key,
 * a unique index on the leads table that a merge would break) it is the same
 * on every attempt, so the run stops at once and says what was violated.
 */
export function isRetryable(error: unknown, children: readonly { schema: string; table: string }[]): boolean {
  const state = sqlStateOf(error);
  if (state === '23505') {
    const { schema, table } = error as { schema?: string; table?: string };
    return children.some((child) => child.schema === schema && child.table === table);
  }
  return state !== null && RETRYABLE.has(state);
}

/** Waits `ms`, or less when `signal` aborts (SIGINT must not wait out a long --pause). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Lets the event loop poll, where Node delivers signals: PGlite answers
 * every statement without returning to it, so without this a Ctrl-C between
 * batches would only be seen after the last one.
 */
export function turnEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** 0.5 s, 1 s, 2 s, …: gives the writers that hold the locks time to finish. */
export function backoffMs(attempt: number): number {
  return 500 * 2 ** (attempt - 1);
}

/** Why a batch timed out, in the flags' words. */
export function describeTimeout(error: unknown, options: CleanOptions, blockers: readonly LockBlocker[] = []): string {
  switch (sqlStateOf(error)) {
    case '55P03':
      return `could not lock its rows within --lock-timeout ${options.lockTimeoutMs} ms${blockers.length > 0 ? `, held by ${describeBlockers(blockers)}` : ''}`;
    case '57014':
      return `a statement ran longer than --statement-timeout ${options.statementTimeoutMs} ms`;
    default:
      return firstLineOf(error);
  }
}
