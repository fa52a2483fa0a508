import { describe, expect, it } from 'vitest';
import { SharedSessionError } from '../../src/errors.js';
import { CHECK_SESSION_SQL, CLAIM_SESSION_SQL, claimedIdentity, newSessionToken, requireSameSession } from '../../src/db/session-token.js';

describe('the session token that tells the server sessions apart', () => {
  it('claims a session in one statement: the old token is read inside set_config, so it is read before it is written', () => {
    expect(CLAIM_SESSION_SQL).toBe(
      "select pg_catalog.pg_backend_pid() as pid, pg_catalog.set_config('lead_dedupe.session_token', coalesce(nullif(pg_catalog.current_setting('lead_dedupe.session_token', true), ''), $1), false) as token, exists (select from pg_catalog.pg_class where relnamespace operator(pg_catalog.=) pg_catalog.pg_my_temp_schema()) as temp_tables",
    );
    expect(CHECK_SESSION_SQL).toBe("select pg_catalog.pg_backend_pid() as pid, pg_catalog.current_setting('lead_dedupe.session_token', true) as token");
  });

  it('gives each session a token of its own', () => {
    const token = newSessionToken();
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect(newSessionToken()).not.toBe(token);
  });

  it('takes a fresh server session, and refuses one that another session claimed or that holds temporary tables', () => {
    expect(claimedIdentity({ pid: '41', token: 'mine', temp_tables: false }, 'mine')).toEqual({ pid: 41, token: 'mine' });
    const taken = () => claimedIdentity({ pid: 41, token: 'theirs', temp_tables: false }, 'mine');
    expect(taken).toThrow(SharedSessionError);
    expect(taken).toThrow(
      "the server session (pid 41) this connection was given already belongs to another client's lead-dedupe session: a pooler in transaction or statement pooling mode (PgBouncer pool_mode = transaction) is between the tool and the server; connect to PostgreSQL directly, or through session pooling (PgBouncer pool_mode = session)",
    );
    expect(() => claimedIdentity({ pid: 41, token: 'mine', temp_tables: true }, 'mine')).toThrow(/already holds another client's temporary tables/);
    expect(() => claimedIdentity(undefined, 'mine')).toThrow(SharedSessionError);
  });

  it("lets a transaction on the claimed session go on, and stops one on another server session or another session's token", () => {
    const identity = { pid: 41, token: 'mine' };
    expect(() => requireSameSession({ pid: 41, token: 'mine' }, identity)).not.toThrow();
    for (const elsewhere of [
      { pid: 42, token: null },
      { pid: 42, token: 'mine' },
      { pid: 41, token: 'theirs' },
      { pid: 41, token: '' },
    ]) {
      let error: unknown = null;
      try {
        requireSameSession(elsewhere, identity);
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(SharedSessionError);
      expect((error as SharedSessionError).fields).toEqual({ expectedPid: 41, actualPid: elsewhere.pid });
      expect((error as Error).message).toMatch(new RegExp(`^a transaction landed on server session pid ${elsewhere.pid}, not on pid 41 that the tool set up`));
    }
  });
});
