import pg from 'pg';

/** A session that holds a lock one of ours waits for (pg_blocking_pids), as pg_stat_activity shows it. */
export interface LockBlocker {
  pid: number;
  /** application_name; '' when it set none. */
  application: string;
  /** active, idle in transaction, … */
  state: string;
  /** The start of its current (or, idle, last) statement, whitespace collapsed. */
  query: string;
}

const BLOCKERS_SQL = `select distinct b.pid, coalesce(b.application_name, '') as application, coalesce(b.state, '') as state,
       left(regexp_replace(coalesce(b.query, ''), '\\s+', ' ', 'g'), 60) as query
from unnest($1::int[]) as w(pid)
cross join lateral unnest(pg_catalog.pg_blocking_pids(w.pid)) as bp(pid)
join pg_catalog.pg_stat_activity as b on b.pid = bp.pid
order by b.pid`;

/** Asks which sessions block ours, on a session of its own; `close` ends that session. */
export interface BlockerProbe {
  ask(): Promise<LockBlocker[]>;
  close(): Promise<void>;
}

/**
 * A probe for the sessions blocking any of `pids()` (the waiting ones are
 * busy, so it has a session of its own), opened on its first question and
 * kept for the next ones: a watch asks about once a second for as long as
 * a command runs. Best effort: a probe that cannot connect answers [].
 */
export function blockerProbe(config: pg.ClientConfig, pids: () => number[]): BlockerProbe {
  let client: pg.Client | null = null;
  let broken = false;
  return {
    async ask() {
      const waiting = pids();
      if (waiting.length === 0 || broken) return [];
      try {
        if (client === null) {
          client = new pg.Client({ ...config, connectionTimeoutMillis: 5000 });
          client.on('error', () => {
            broken = true;
          });
          await client.connect();
        }
        const { rows } = await client.query<LockBlocker>(BLOCKERS_SQL, [waiting]);
        return rows.map((row) => ({ ...row, pid: Number(row.pid) }));
      } catch {
        broken = true; // the wait goes on either way; no further attempt
        return [];
      }
    },
    async close() {
      await client?.end().catch(() => undefined);
      client = null;
    },
  };
}

/** `pid 4242 (application "psql", idle in transaction: "update leads set name = …")`, the blockers joined with "; ". */
export function describeBlockers(blockers: readonly LockBlocker[]): string {
  return blockers
    .map((b) => {
      const details = [`application "${b.application}"`, ...(b.state === '' ? [] : [b.state])].join(', ');
      return `pid ${b.pid} (${details}${b.query === '' ? '' : `: "${b.query}${b.query.length >= 60 ? '…' : ''}"`})`;
    })
    .join('; ');
}

export interface LockWatch {
  /** The blockers last seen while this watch ran (kept after the wait ended, for the error that follows it). */
  last(): LockBlocker[];
  /** Forgets them (a new attempt starts). */
  clear(): void;
  stop(): void;
}

/**
 * Polls, every `intervalMs` while it runs, which sessions block this
 * database's own (Database.blockers; nothing on PGlite, which never waits
 * on another session), and reports each change to `onChange` (an empty
 * list: no longer waiting).
 */
export function watchLockWaits(
  database: { blockers?: (() => BlockerProbe) | null },
  onChange?: (blockers: LockBlocker[]) => void,
  intervalMs = 1000,
): LockWatch {
  const probe = database.blockers?.() ?? null;
  let last: LockBlocker[] = [];
  let shown = '';
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  // The first look comes early (a quarter of the interval): a short lock_timeout should still find who held the lock.
  const schedule = (delay: number) => {
    if (stopped || probe === null) return;
    timer = setTimeout(() => {
      void probe
        .ask()
        .then((blockers) => {
          if (stopped) return;
          if (blockers.length > 0) last = blockers;
          const text = describeBlockers(blockers);
          if (text !== shown) {
            shown = text;
            onChange?.(blockers);
          }
        })
        .finally(() => schedule(intervalMs));
    }, delay);
    timer.unref();
  };
  schedule(Math.round(intervalMs / 4));
  return {
    last: () => last,
    clear: () => {
      last = [];
    },
    stop: () => {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      void probe?.close();
    },
  };
}
