import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../src/seed/seed.js';
import { assertBuilt, PRINTED_INVOCATION, runCli, type CliResult } from '../support/cli.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/**
 * Every message that prints a connection target, through the built binary: the refusal of a
 * malformed URL (from --database, DATABASE_URL or the config file), the connection failure, the
 * JSON report's `database` and a suggested follow-up command. Each password is made of fragments
 * found nowhere else, and none of them may appear on stdout or stderr.
 */
/** Unset for the child (node leaves undefined variables out); libpq takes an empty one as set, PGSSLMODE="" as invalid. */
const NO_PG_ENV = { PGHOST: undefined, PGPORT: undefined, PGDATABASE: undefined, PGUSER: undefined, PGPASSWORD: undefined, PGSSLMODE: undefined };
const MALFORMED: [url: string, fragments: string[]][] = [
  ['postgres://postgres:S3cret@PWx9@127.0.0.1:5432/db', ['S3cret', 'PWx9']],
  ['postgres://u:Qa1@Qb2:Qc3@Qd4@127.0.0.1/db', ['Qa1', 'Qb2', 'Qc3', 'Qd4']],
  ['postgres://u:Ra1/Rb2@127.0.0.1/db', ['Ra1', 'Rb2']],
  ['postgresql://u:Ua1@@127.0.0.1/db', ['Ua1']],
  ['postgres://u:Va1@Vb2@127.0.0.1:5432/db?sslmode=bogus', ['Va1', 'Vb2']],
];

function expectNoFragment(result: CliResult, fragments: string[]): void {
  for (const fragment of fragments) {
    expect(result.stdout).not.toContain(fragment);
    expect(result.stderr).not.toContain(fragment);
  }
}

describe('malformed URLs: refused in one line without any part of the password (built binary)', () => {
  let dir: string;
  beforeAll(() => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-masking-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(MALFORMED)('%s', async (url, fragments) => {
    const config = join(dir, `config-${fragments[0]}.json`);
    writeFileSync(config, JSON.stringify({ database: url }));
    const results = [
      await runCli(['scan', '--database', url], { env: NO_PG_ENV }),
      await runCli(['runs'], { env: { ...NO_PG_ENV, DATABASE_URL: url } }),
      await runCli(['clean', '--key', 'device-phone', '--config', config], { env: NO_PG_ENV }),
    ];
    for (const result of results) {
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/^lead-dedupe: (malformed database URL|connection) "postgres(ql)?:\/\/[^:]*:\*\*\*@[^\n]*\n$/);
      expectNoFragment(result, fragments);
    }
  });
});

describe.skipIf(!SERVER_URL)('a # in a URL password is a password character for libpq (built binary, server)', () => {
  it('the URL is accepted and the failure (no such role) never shows the password', async () => {
    const result = await runCli(['scan', '--database', 'postgres://no_such_role_x:Ta1#Tb2@127.0.0.1/db'], { env: NO_PG_ENV });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^lead-dedupe: cannot connect to 127\.0\.0\.1:5432\/db: [^\n]*role "no_such_role_x" does not exist\n$/);
    expectNoFragment(result, ['Ta1', 'Tb2']);
  });
});

describe.skipIf(!SERVER_URL)('a password in an accepted URL (built binary, server)', () => {
  let test: TestDatabase;
  let host: string;
  // The server trusts local connections, so the password is sent and ignored; %40 is a literal @ in it.
  const withPassword = () => `postgres://postgres:Zq9w%40Wk7@${host}`;
  const fragments = ['Zq9w', 'Wk7'];

  beforeAll(async () => {
    assertBuilt();
    test = await TEST_TARGETS.find((t) => t.label === 'postgres')!.open();
    host = test.url!.replace(/^postgres(ql)?:\/\/[^@]*@/, '');
    await seed(test.database, { table: 'leads', rows: 300, scenario: 'production', replace: true });
  });
  afterAll(async () => {
    await test?.close();
  });

  it('the JSON report names host:port/db, the suggested undo keeps the user and drops the password', async () => {
    const scanned = await runCli(['scan', '--database', withPassword(), '--key', 'device-phone', '--format', 'json'], { env: NO_PG_ENV });
    expect(scanned.code, scanned.stderr).toBe(0);
    const url = new URL(test.url!);
    expect(JSON.parse(scanned.stdout).database).toBe(`${url.hostname}:${url.port}${url.pathname}`);
    expectNoFragment(scanned, fragments);
    const cleaned = await runCli(['clean', '--database', withPassword(), '--key', 'device-phone', '--execute'], { env: { ...NO_PG_ENV, COLUMNS: '250' } });
    expect(cleaned.code, cleaned.stderr).toBe(0);
    expect(cleaned.stdout).toContain(
      `undo with (-d without the password given: PGPASSWORD or ~/.pgpass supplies it) (without --execute it rehearses):\n  ${PRINTED_INVOCATION} restore 1 -d postgres://postgres@${host} --execute`,
    );
    expectNoFragment(cleaned, fragments);
  });

  it('a connection failure names host:port/db only', async () => {
    const result = await runCli(['scan', '--database', 'postgres://postgres:Zq9w%40Wk7@127.0.0.1:1/nowhere'], { env: NO_PG_ENV });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^lead-dedupe: cannot connect to 127\.0\.0\.1:1\/nowhere: [^\n]*\n$/);
    expectNoFragment(result, fragments);
  });
});
