import type { Database } from '../db/database.js';
import { abortable } from '../db/abortable.js';
import { InterruptedError } from '../errors.js';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
/** How often an interrupted read-only task cancels its sessions' statements again. */
const RECANCEL_MS = 250;
type StopSignal = (typeof SIGNALS)[number];

/**
 * SIGINT (Ctrl-C) and SIGTERM (cron and systemd timeouts) while a command
 * runs. The first asks it to stop where it safely can (after the batch in
 * flight); the second to stop now (the batch in flight rolls back). After
 * the second the handlers are gone, so a third ends the process as usual.
 */
export interface Interrupt {
  /** Aborted by the first signal. */
  stop: AbortSignal;
  /** Aborted by the second. */
  now: AbortSignal;
  /** The first signal received, or null. */
  received(): StopSignal | null;
  dispose(): void;
}

export function watchSignals(handlers: { first?: (signal: StopSignal) => void; second?: (signal: StopSignal) => void }): Interrupt {
  const stop = new AbortController();
  const now = new AbortController();
  let received: StopSignal | null = null;
  const onSignal = (signal: StopSignal) => {
    if (received === null) {
      received = signal;
      stop.abort();
      handlers.first?.(signal);
      return;
    }
    dispose();
    now.abort();
    handlers.second?.(signal);
  };
  const dispose = () => {
    for (const signal of SIGNALS) process.off(signal, onSignal);
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  return { stop: stop.signal, now: now.signal, received: () => received, dispose };
}

/**
 * A read-only task (scan, a dry run) that the first signal simply ends: its
 * running statements are cancelled, no further one starts, and the command
 * exits 130 with one line saying `outcome` (a function: what it is when the signal comes).
 */
export async function stoppable<T>(database: Database, outcome: string | (() => string), task: (database: Database) => Promise<T>): Promise<T> {
  // Statements built before the signal may still be queued for a pooled session and start after one cancel, and
  // parallel ones outlive the first to fail (report's scans, waiting on a table lock, kept the pool from closing):
  // cancel again until the process ends (the timer does not keep it alive).
  const interrupt = watchSignals({
    first: () => {
      void database.cancel?.();
      setInterval(() => void database.cancel?.(), RECANCEL_MS).unref();
    },
  });
  try {
    return await task({ ...database, db: abortable(database.db, interrupt.stop) });
  } catch (error) {
    const signal = interrupt.received();
    if (signal !== null) throw new InterruptedError(`interrupted by ${signal}; ${typeof outcome === 'string' ? outcome : outcome()}`);
    throw error;
  } finally {
    interrupt.dispose();
  }
}

/**
 * A schema change (an index build) that the first SIGINT or SIGTERM stops:
 * the running statement is cancelled by the server's cancel request, which
 * needs no session slot (Database.cancel), and the task, told through `stop`,
 * drops what it left invalid and throws an InterruptedError saying what is
 * left; the command exits 130 with that one line, the signal named. Without
 * it SIGTERM ended the process at once (exit 143, no message) and left the
 * build's invalid index behind.
 */
export async function cancellable<T>(database: Database, task: (stop: AbortSignal) => Promise<T>): Promise<T> {
  // A second signal cancels again: the clean-up's DROP INDEX CONCURRENTLY (bounded by lock_timeout) then gives up at once.
  const interrupt = watchSignals({ first: () => void database.cancel?.(), second: () => void database.cancel?.() });
  try {
    return await task(interrupt.stop);
  } catch (error) {
    const signal = interrupt.received();
    if (signal === null) throw error;
    throw new InterruptedError(`interrupted by ${signal}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  } finally {
    interrupt.dispose();
  }
}
