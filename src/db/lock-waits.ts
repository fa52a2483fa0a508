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

/**
 * The sessions blocking any of `pids`, read from a session of its own (the
 * waiting ones are busy), opened for this one question: it is asked about
 * once a second, and only while a statement runs long enough to be waiting.
 */
export async function blockingSessions(config: pg.ClientConfig, pids: number[]): Promise<LockBlocker[]> {
  if (pids.length === 0) return [];
  const client = new pg.Client({ ...config, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<LockBlocker>(BLOCKERS_SQL, [pids]);
    return rows.map((row) => ({ ...row, pid: Number(row.pid) }));
  } catch {
    return []; // best effort: the wait goes on either way
  } finally {
    await client.end().catch(() => undefined);
  }
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
  database: { blockers?: (() => Promise<LockBlocker[]>) | null },
  onChange?: (blockers: LockBlocker[]) => void,
  intervalMs = 1000,
): LockWatch {
  const ask = database.blockers;
  let last: LockBlocker[] = [];
  let shown = '';
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  // The first look comes early (a quarter of the interval): a short lock_timeout should still find who held the lock.
  const schedule = (delay: number) => {
    if (stopped || ask === undefined || ask === null) return;
    timer = setTimeout(() => {
      void ask()
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
    },
  };
}
