import { randomBytes } from 'node:crypto';
import { SharedSessionError } from '../errors.js';
import { USER_SEARCH_PATH_SETTING } from './session-pin.js';

/**
 * Which server session a pinned connection is on. Temp tables, the advisory
 * lock and the pinned settings live in one server session; a pooler in
 * transaction (or statement) mode hands each transaction whichever server
 * session is free, and does not reset it between clients. Each of the tool's
 * sessions therefore marks its server session with a random token of its own,
 * and every transaction first checks that the token (and the process id) are
 * still its own (session-guard.ts).
 */
export const SESSION_TOKEN_SETTING = 'lead_dedupe.session_token';

export interface SessionIdentity {
  pid: number;
  token: string;
}

/** A new token: one per pooled session, so two of the tool's own sessions on one server session are told apart too. */
export function newSessionToken(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Takes the server session for `$1` unless it already carries another
 * token (kept as it is: the one set it up, not this one): the nested call
 * reads the old value before set_config writes, in one statement. Also says
 * whether the session already has temporary tables, which a fresh (or
 * DISCARDed) session never has: another client's, whose names could be the
 * tool's own.
 */
export const CLAIM_SESSION_SQL = `select pg_catalog.pg_backend_pid() as pid, pg_catalog.set_config('${SESSION_TOKEN_SETTING}', coalesce(nullif(pg_catalog.current_setting('${SESSION_TOKEN_SETTING}', true), ''), $1), false) as token, exists (select from pg_catalog.pg_class where relnamespace operator(pg_catalog.=) pg_catalog.pg_my_temp_schema()) as temp_tables`;

/** The first statement of every transaction on a claimed session: where it runs, and whose token that session carries. */
export const CHECK_SESSION_SQL = `select pg_catalog.pg_backend_pid() as pid, pg_catalog.current_setting('${SESSION_TOKEN_SETTING}', true) as token`;

/**
 * Run on each claimed session as the pool closes: a pooler that hands the
 * server session on (transaction pooling, or session pooling without its
 * reset query) must pass none of the tool's state to the next client, whose
 * unqualified table names would not resolve under the pinned search_path,
 * and whose statements would stop at the tool's timeouts. Every setting
 * changed at session level goes back to the value the session started with,
 * the tool's own marks are emptied and its session advisory locks released;
 * only where the token is still this session's (`$1`), so another client's
 * server session is never touched.
 */
export const RELEASE_SESSION_SQL = `with mine as materialized (select pg_catalog.current_setting('${SESSION_TOKEN_SETTING}', true) operator(pg_catalog.=) $1 as ours)
select (select pg_catalog.count(pg_catalog.set_config(s.name, s.reset_val, false)) from pg_catalog.pg_settings as s where s.source operator(pg_catalog.=) 'session') as settings,
       pg_catalog.set_config('${USER_SEARCH_PATH_SETTING}', '', false) as user_path, pg_catalog.set_config('${SESSION_TOKEN_SETTING}', '', false) as token,
       pg_catalog.pg_advisory_unlock_all() as locks
from mine where mine.ours`;

const WHAT_TO_DO =
  'a pooler in transaction or statement pooling mode (PgBouncer pool_mode = transaction) is between the tool and the server; connect to PostgreSQL directly, or through session pooling (PgBouncer pool_mode = session)';

/** What the claim and the check read: the server process id, the session's token, and (the claim) whether it holds temporary tables. */
export interface SessionRow {
  pid: unknown;
  token: unknown;
  temp_tables?: unknown;
}

/** The claim's answer: this session's identity, or the refusal when the server session was another client's. */
export function claimedIdentity(row: SessionRow | undefined, token: string): SessionIdentity {
  const pid = Number(row?.pid);
  if (row?.token !== token) {
    throw new SharedSessionError(
      `the server session (pid ${pid}) this connection was given already belongs to another client's lead-dedupe session: ${WHAT_TO_DO}`,
      {
        expectedPid: null,
        actualPid: pid,
      },
    );
  }
  if (row.temp_tables === true) {
    throw new SharedSessionError(`the server session (pid ${pid}) this connection was given already holds another client's temporary tables: ${WHAT_TO_DO}`, {
      expectedPid: null,
      actualPid: pid,
    });
  }
  return { pid, token };
}

/** Throws unless the transaction's first statement ran on the session the tool set up. */
export function requireSameSession(row: SessionRow | undefined, identity: SessionIdentity): void {
  const pid = Number(row?.pid);
  if (pid === identity.pid && row?.token === identity.token) return;
  throw new SharedSessionError(
    `a transaction landed on server session pid ${pid}, not on pid ${identity.pid} that the tool set up (its lock, temporary tables and settings are there); it was rolled back before any work: ${WHAT_TO_DO}`,
    { expectedPid: identity.pid, actualPid: pid },
  );
}
