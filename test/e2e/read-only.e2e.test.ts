import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { freePort } from '../support/free-port.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt } from '../support/cli.js';
import { expectPlanCheckRefused, expectReadCommandsWork, expectWritingCommandsRefused, prepareReadOnlyFixture } from '../support/read-only-checks.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/**
 * Item 10: everything that only reads works on a read-only connection, and
 * everything that writes refuses before any change (exit 2, one line).
 * (a) a test-owned database with default_transaction_read_only = on on the
 * main server; (b) a REAL hot standby: a primary and a streaming replica
 * initdb'd by this suite (as the postgres OS user, on free ports, 127.0.0.1
 * only), removed afterwards.
 */

describe.runIf(SERVER_URL)('a database with default_transaction_read_only = on', () => {
  let server: TestDatabase;
  let name: string;

  beforeAll(async () => {
    assertBuilt();
    server = await TEST_TARGETS.find((t) => t.label === 'postgres')!.open();
    name = new URL(server.url!).pathname.slice(1);
    await prepareReadOnlyFixture(server.url!);
    await server.database.db.destroy();
    await admin(`alter database ${name} set default_transaction_read_only = on`);
  }, 120_000);
  afterAll(async () => {
    await server?.close();
  });

  it('scan, scan --since last --state-file, details, runs, constraint status, sql upsert, --print-sql and the clean and restore dry runs work, with figures equal to SQL oracles', async () => {
    await expectReadCommandsWork(server.url!);
  }, 120_000);

  it('clean --execute, restore --execute, constraint add/drop, index add --execute and seed exit 2 with one line and change nothing', async () => {
    await expectWritingCommandsRefused(
      server.url!,
      /^lead-dedupe: the session is read-only \(default_transaction_read_only is on\); point --database at the primary\n$/,
    );
  }, 120_000);

  it('clean --plan F (the check) exits 2 with one line: its temporary tables cannot be dropped in a read-only session', async () => {
    await expectPlanCheckRefused(
      server.url!,
      /^lead-dedupe: checking a plan \(clean --plan without --execute\) works in temporary tables, which a read-only session/,
    );
  }, 120_000);
});

const BIN_DIR = '/usr/lib/postgresql/15/bin';
const HAVE_CLUSTER_TOOLS = existsSync('/usr/sbin/runuser') && existsSync(join(BIN_DIR, 'initdb'));
if (!HAVE_CLUSTER_TOOLS && process.env.CI) throw new Error(`CI must run the hot-standby suite: runuser or ${BIN_DIR}/initdb is missing`);

describe.runIf(HAVE_CLUSTER_TOOLS || process.env.CI)('a real hot standby (streaming replica of a primary started by this suite)', () => {
  let dir: string;
  const started: string[] = [];
  let primaryUrl: string;
  let standbyUrl: string;

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-standby-'));
    chmodSync(dir, 0o777);
    const [primaryPort, standbyPort] = [await freePort(), await freePort()];
    const primary = join(dir, 'primary');
    const standby = join(dir, 'standby');
    asPostgres('initdb', '-D', primary, '-A', 'trust', '-U', 'postgres', '--no-sync');
    appendFileSync(join(primary, 'pg_hba.conf'), '\nhost replication all 127.0.0.1/32 trust\n');
    startCluster(primary, primaryPort);
    started.push(primary);
    primaryUrl = `postgres://postgres@127.0.0.1:${primaryPort}/postgres`;
    asPostgres('pg_basebackup', '-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', standby, '-R', '-X', 'stream', '--no-sync');
    startCluster(standby, standbyPort);
    started.push(standby);
    standbyUrl = `postgres://postgres@127.0.0.1:${standbyPort}/postgres`;
    // Written on the primary after the standby started: the standby must replay it.
    await prepareReadOnlyFixture(primaryUrl);
    await waitForReplay(primaryUrl, standbyUrl);
  }, 180_000);

  afterAll(() => {
    for (const data of started.reverse()) {
      try {
        asPostgres('pg_ctl', '-D', data, '-m', 'immediate', '-w', 'stop');
      } catch {
        // already down: removing the folder below is all that is left
      }
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the standby is in recovery', async () => {
    const client = new pg.Client({ connectionString: standbyUrl });
    await client.connect();
    const { rows } = await client.query('select pg_is_in_recovery() as standby');
    await client.end();
    expect(rows[0].standby).toBe(true);
  });

  it('scan, scan --since last --state-file, details, runs, constraint status, sql upsert, --print-sql and the clean and restore dry runs work, with figures equal to SQL oracles', async () => {
    await expectReadCommandsWork(standbyUrl);
  }, 120_000);

  it('clean --execute, restore --execute, constraint add/drop, index add --execute and seed exit 2 with one line and change nothing', async () => {
    await expectWritingCommandsRefused(standbyUrl, /^lead-dedupe: the server is a read-only standby \(in recovery\); point --database at the primary\n$/);
  }, 120_000);

  it('clean --plan F (the check) exits 2 with one line, not 25006: a standby allows no temporary tables', async () => {
    await expectPlanCheckRefused(
      standbyUrl,
      /^lead-dedupe: checking a plan \(clean --plan without --execute\) works in temporary tables, which a read-only standby \(in recovery\) does not allow; point --database at the primary/,
    );
  }, 120_000);
});

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

function asPostgres(tool: string, ...args: string[]): string {
  return execFileSync('runuser', ['-u', 'postgres', '--', join(BIN_DIR, tool), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function startCluster(data: string, port: number): void {
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${data} -c fsync=off -c full_page_writes=off`;
  asPostgres('pg_ctl', '-D', data, '-o', options, '-l', join(data, 'server.log'), '-w', '-t', '60', 'start');
}

async function waitForReplay(primary: string, standby: string): Promise<void> {
  const one = async (url: string, text: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(text)).rows[0];
    } finally {
      await client.end();
    }
  };
  const { lsn } = await one(primary, 'select pg_current_wal_lsn()::text as lsn');
  for (let attempt = 0; attempt < 300; attempt++) {
    const { caught } = await one(standby, `select pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn as caught`);
    if (caught) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the standby did not replay up to ${lsn} within 30 s`);
}
