import { existsSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli, type CliResult } from '../support/cli.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/**
 * How the binary finds its database, the way psql does: --database/-d,
 * DATABASE_URL, the PG* variables, the config file (in that order), libpq
 * keyword strings, sslmode, and passwords from a pgpass file. Every wrong
 * candidate points at port 1 on 127.0.0.1 (closed), so a success proves which
 * one was used.
 */
const server = TEST_TARGETS.find((t) => t.label === 'postgres')!;
const CLOSED = 'postgres://postgres@127.0.0.1:1/nowhere';
/** Unset for the child (node leaves undefined variables out); libpq takes an empty one as set, PGSSLMODE="" as invalid. */
const NO_PG_ENV = { PGHOST: undefined, PGPORT: undefined, PGDATABASE: undefined, PGUSER: undefined, PGSSLMODE: undefined, PGAPPNAME: undefined };

/** One line on stderr, no stack trace, no node-postgres warning. */
function expectOneCleanLine(result: CliResult): void {
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(/^lead-dedupe: /);
  expect(result.stderr).not.toMatch(/SECURITY WARNING|DeprecationWarning|\n\s+at /);
}

describe.skipIf(!SERVER_URL)('connection like psql (built binary, server)', () => {
  let test: TestDatabase;
  let dbName: string;
  let url: string;
  let dir: string;
  const runs = (args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string) =>
    runCli(['runs', '--format', 'json', ...args], { env: { ...NO_PG_ENV, ...env }, cwd });

  beforeAll(async () => {
    assertBuilt();
    test = await server.open();
    url = test.url!;
    dbName = new URL(url).pathname.slice(1);
    dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-connection-'));
  });
  afterAll(async () => {
    await test?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reaches the server from the PG* variables alone', async () => {
    const result = await runs([], { PGHOST: '127.0.0.1', PGPORT: '5432', PGUSER: 'postgres', PGDATABASE: dbName });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('takes a libpq keyword string, in --database and in DATABASE_URL', async () => {
    const conninfo = `host=127.0.0.1 port=5432 dbname='${dbName}' user=postgres`;
    expect((await runs(['--database', conninfo])).code).toBe(0);
    const fromEnv = await runs([], { DATABASE_URL: conninfo });
    expect(fromEnv.stderr).toBe('');
    expect(fromEnv.code).toBe(0);
  });

  it('takes -d as the short form of --database', async () => {
    const result = await runs(['-d', url]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('precedence: flag > DATABASE_URL > PG* > config', async () => {
    const pgAt = (port: string) => ({ PGHOST: '127.0.0.1', PGPORT: port, PGUSER: 'postgres', PGDATABASE: dbName });
    const folder = mkdtempSync(join(dir, 'cwd-'));
    const writeConfig = (database: string) => writeFileSync(join(folder, 'lead-dedupe.config.json'), JSON.stringify({ database }));

    writeConfig(CLOSED);
    expect((await runs(['-d', url], { DATABASE_URL: CLOSED, ...pgAt('1') }, folder)).code).toBe(0);
    expect((await runs([], { DATABASE_URL: url, ...pgAt('1') }, folder)).code).toBe(0);
    expect((await runs([], pgAt('5432'), folder)).code).toBe(0);
    writeConfig(url);
    expect((await runs([], {}, folder)).code).toBe(0);

    // And the losers really were unreachable: each alone fails.
    writeConfig(CLOSED);
    const refused = await runs([], {}, folder);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/127\.0\.0\.1:1\/nowhere/);
    expect((await runs([], pgAt('1'))).stderr).toMatch(/127\.0\.0\.1:1\//);
  });

  it('sslmode=disable connects; sslmode=require against a server without SSL fails in one line, without the SECURITY WARNING', async () => {
    expect((await runs(['-d', `${url}?sslmode=disable`])).code).toBe(0);
    const required = await runs(['-d', `${url}?sslmode=require`]);
    expect(required.code).toBe(1);
    expectOneCleanLine(required);
    expect(required.stderr).toMatch(/does not support SSL/);
    const fromEnv = await runs(['-d', url], { PGSSLMODE: 'require' });
    expect(fromEnv.code).toBe(1);
    expectOneCleanLine(fromEnv);
  });
});

/**
 * A stand-in server on 127.0.0.1 that asks for a cleartext password, records
 * what it receives, and refuses: the real server trusts 127.0.0.1, so it
 * never asks for a password and could not show that one is sent.
 */
async function passwordCatcher(): Promise<{ port: number; received: string[]; close: () => Promise<void> }> {
  const received: string[] = [];
  const sockets = new Set<Socket>();
  const listener: Server = createServer((socket) => {
    sockets.add(socket);
    let buffer = Buffer.alloc(0);
    let started = false;
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!started && buffer.length >= 4 && buffer.length >= buffer.readInt32BE(0)) {
        buffer = buffer.subarray(buffer.readInt32BE(0));
        started = true;
        socket.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3])); // AuthenticationCleartextPassword
      }
      if (started && buffer.length >= 5 && buffer[0] === 0x70 && buffer.length >= 1 + buffer.readInt32BE(1)) {
        received.push(buffer.subarray(5, buffer.readInt32BE(1)).toString('utf8').replace(/\0$/, ''));
        const fields = Buffer.from('SFATAL\0C28P01\0Mpassword authentication failed for user "ann"\0\0', 'utf8');
        const header = Buffer.alloc(5);
        header.write('E');
        header.writeInt32BE(4 + fields.length, 1);
        socket.end(Buffer.concat([header, fields]));
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const port = (listener.address() as { port: number }).port;
  return {
    port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        listener.close(() => resolve());
      }),
  };
}

describe('passwords: pgpass file, PGPASSWORD (built binary, stand-in server)', () => {
  let dir: string;
  let catcher: Awaited<ReturnType<typeof passwordCatcher>>;
  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-pgpass-'));
    catcher = await passwordCatcher();
  });
  afterAll(async () => {
    await catcher?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the password of the matching PGPASSFILE line and never prints it', async () => {
    const passfile = join(dir, 'pgpass');
    writeFileSync(passfile, `127.0.0.1:${catcher.port}:other:ann:wrong-one\n127.0.0.1:${catcher.port}:crm:ann:s3cret-from-pgpass\n`);
    chmodSync(passfile, 0o600);
    const result = await runCli(['runs', '-d', `postgres://ann@127.0.0.1:${catcher.port}/crm`], { env: { ...NO_PG_ENV, PGPASSFILE: passfile } });
    expect(catcher.received.at(-1)).toBe('s3cret-from-pgpass');
    expect(result.code).toBe(1);
    expectOneCleanLine(result);
    expect(result.stderr).toMatch(/password authentication failed/);
    expect(result.stdout + result.stderr).not.toContain('s3cret');
  });

  it('with no password anywhere, says so in one line and exits at once (no hanging socket)', async () => {
    const passfile = join(dir, 'pgpass-other');
    writeFileSync(passfile, `127.0.0.1:${catcher.port}:other:ann:not-this-one\n`);
    chmodSync(passfile, 0o600);
    const started = Date.now();
    const result = await runCli(['runs', '-d', `postgres://ann@127.0.0.1:${catcher.port}/crm`], { env: { ...NO_PG_ENV, PGPASSFILE: passfile } });
    expect(Date.now() - started).toBeLessThan(8000);
    expect(result.code).toBe(1);
    expectOneCleanLine(result);
    expect(result.stderr).toMatch(/no password supplied for user ann/);
  });

  it('PGPASSWORD and a password in the URL are sent too, and never printed', async () => {
    await runCli(['runs', '-d', `host=127.0.0.1 port=${catcher.port} dbname=crm user=ann`], { env: { ...NO_PG_ENV, PGPASSWORD: 'env-s3cret' } });
    expect(catcher.received.at(-1)).toBe('env-s3cret');
    const result = await runCli(['runs', '-d', `postgres://ann:url-s3cret@127.0.0.1:${catcher.port}/crm`], { env: NO_PG_ENV });
    expect(catcher.received.at(-1)).toBe('url-s3cret');
    expectOneCleanLine(result);
    expect(result.stdout + result.stderr).not.toContain('s3cret');
  });
});

describe('pglite:<dir> that holds no database (built binary)', () => {
  let dir: string;
  beforeAll(() => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-pglite-typo-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a reading command refuses a misspelt folder (exit 2) and does not create it', async () => {
    const typo = join(dir, 'typo');
    for (const args of [['scan'], ['runs']]) {
      const result = await runCli([...args, '--database', `pglite:${typo}`], { env: NO_PG_ENV });
      expect(result.code).toBe(2);
      expectOneCleanLine(result);
      expect(result.stderr).toContain(typo);
      expect(result.stderr).toMatch(/seed.*demo|demo.*seed/);
      expect(existsSync(typo)).toBe(false);
    }
  });

  it('an existing empty folder is refused too; seed creates the database, and then scan reads it', async () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    const refused = await runCli(['runs', '--database', `pglite:${empty}`], { env: NO_PG_ENV });
    expect(refused.code).toBe(2);
    const fresh = join(dir, 'fresh');
    expect((await runCli(['seed', '--rows', '100', '--database', `pglite:${fresh}`], { env: NO_PG_ENV })).code).toBe(0);
    const scanned = await runCli(['scan', '--format', 'json', '--database', `pglite:${fresh}`], { env: NO_PG_ENV });
    expect(scanned.stderr).toBe('');
    expect(scanned.code).toBe(0);
  }, 60_000);
});
