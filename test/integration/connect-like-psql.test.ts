import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatabaseTarget } from '../../src/db/database-target.js';
import { openDatabase } from '../../src/db/with-database.js';
import { assertBuilt, BIN, runCli } from '../support/cli.js';
import {
  asPostgres,
  ownClustersAvailable,
  PG_BIN,
  postgresFile,
  postgresFolder,
  startCluster,
  startExisting,
  type OwnCluster,
} from '../support/own-cluster.js';
import { makeTestCertificates } from '../support/test-certificates.js';

/**
 * The tool against servers this suite starts, each case's answer coming from
 * psql itself: a primary with TLS (a throwaway CA) whose pg_hba.conf allows
 * peer on its sockets and scram-sha-256 on 127.0.0.1, and a hot standby of it
 * without TLS. Each connection string and environment goes to
 * `psql "<string>" -Atc <WHO>` and to the tool's own opener; both must say the
 * same (or both fail), and psql's answer is also checked against the case's
 * stated expectation, so a case where both fail for the wrong reason shows up.
 */
const PRIMARY = 5460;
const STANDBY = 5461;
const CLOSED = 5469;
/** The default socket folder of Debian's libpq; the primary listens there too, on its own port. */
const DEFAULT_SOCKETS = '/var/run/postgresql';
const SERVER_NAME = 'conn-test.invalid';
const WHO = "select current_user, current_database(), inet_server_port(), current_setting('port'), (select ssl from pg_stat_ssl where pid = pg_backend_pid())";

const runFile = (file: string, args: string[], env: NodeJS.ProcessEnv, cwd: string) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(file, args, { env, cwd, timeout: 30_000 }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });

describe.skipIf(!ownClustersAvailable())('connecting exactly as psql does (own clusters: peer, scram, TLS, a standby)', () => {
  let base = '';
  let sock = '';
  let home = '';
  let certs = { caCert: '', otherCaCert: '', serverCert: '', serverKey: '' };
  let passfile = '';
  let serviceFile = '';
  const clusters: OwnCluster[] = [];

  beforeAll(async () => {
    base = postgresFolder(mkdtempSync('/tmp/conn-'), 0o755);
    sock = postgresFolder(join(base, 'sock'), 0o755);
    home = join(base, 'home');
    postgresFolder(home, 0o700);
    // Debian's server package makes it; created only where it is missing, owned by postgres as there.
    if (!existsSync(DEFAULT_SOCKETS)) postgresFolder(DEFAULT_SOCKETS, 0o2775);
    const tls = postgresFolder(join(base, 'tls'), 0o755);
    certs = await makeTestCertificates(base, SERVER_NAME);
    postgresFile(join(tls, 'server.key'), readFileSync(certs.serverKey, 'utf8'));
    postgresFile(join(tls, 'server.crt'), readFileSync(certs.serverCert, 'utf8'));
    chmodSync(join(tls, 'server.crt'), 0o644);
    for (const port of [PRIMARY, STANDBY]) {
      if (existsSync(join(DEFAULT_SOCKETS, `.s.PGSQL.${port}`))) throw new Error(`port ${port} is taken (a socket exists in ${DEFAULT_SOCKETS})`);
    }
    const primary = await startCluster(
      {
        dataDir: join(base, 'primary'),
        port: PRIMARY,
        socketDirs: [sock, DEFAULT_SOCKETS],
        hba: 'local all all peer\nlocal replication all peer\nhost all all 127.0.0.1/32 scram-sha-256\n',
        conf: ['ssl = on', `ssl_cert_file = '${join(tls, 'server.crt')}'`, `ssl_key_file = '${join(tls, 'server.key')}'`],
      },
      base,
    );
    clusters.push(primary);
    for (const statement of [
      "create role root login superuser password 'rootpw'",
      "create role ann login password 'annpw'",
      'create database crm owner ann',
      'create database root owner root',
    ]) {
      await primary.sql(statement);
    }
    await asPostgres(
      join(PG_BIN!, 'pg_basebackup'),
      ['-h', sock, '-p', String(PRIMARY), '-U', 'postgres', '-D', join(base, 'standby'), '-R', '--no-sync', '--checkpoint=fast'],
      base,
    );
    clusters.push(await startExisting(join(base, 'standby'), STANDBY, sock, base, '-c ssl=off'));

    passfile = join(base, 'pgpass');
    writeFileSync(passfile, `127.0.0.1:${PRIMARY}:crm:ann:annpw\n`, { mode: 0o600 });
    writeFileSync(join(home, '.pgpass'), '127.0.0.1:*:*:root:rootpw\n', { mode: 0o600 });
    serviceFile = join(base, 'services.conf');
    writeFileSync(serviceFile, `# services\n[crm]\nhost=127.0.0.1\nport=${PRIMARY}\nuser=ann\ndbname=crm\n`);
  });

  afterAll(async () => {
    for (const cluster of clusters.reverse()) await cluster.stop();
    if (base !== '') rmSync(base, { recursive: true, force: true });
  });

  /** The environment psql and the tool both get: nothing of this process's PG* variables, HOME of our own. */
  const environment = (env: Record<string, string>) => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ...env });

  /** psql's answer, or FAILED; and what it said on stderr, for the assertion's message. */
  async function psqlSays(conninfo: string | null, env: Record<string, string>): Promise<[string, string]> {
    const result = await runFile('psql', ['-X', '-w', ...(conninfo === null ? [] : [conninfo]), '-Atc', WHO], environment(env), base);
    return [result.code === 0 ? result.stdout.trim() : 'FAILED', result.stderr];
  }

  async function toolSays(conninfo: string | null, env: Record<string, string>): Promise<string> {
    try {
      const database = await openDatabase(parseDatabaseTarget(conninfo ?? undefined, environment(env)));
      try {
        const { rows } = await sql<Record<string, unknown>>`${sql.raw(WHO)}`.execute(database.db);
        return Object.values(rows[0]!)
          .map((value) => (value === null ? '' : value === true ? 't' : value === false ? 'f' : String(value)))
          .join('|');
      } finally {
        await database.db.destroy();
      }
    } catch {
      return 'FAILED';
    }
  }

  /** [what it shows, connection string (null: none), environment, what psql answers: user|database|inet port|port|ssl]. */
  const tcp = `host=127.0.0.1 port=${PRIMARY} user=ann dbname=crm`;
  const ann = { PGPASSWORD: 'annpw' };
  const cases: [string, () => string | null, () => Record<string, string>, string][] = [
    ['a keyword string, PGPASSWORD; TLS by default (sslmode prefer)', () => tcp, () => ann, `ann|crm|${PRIMARY}|${PRIMARY}|t`],
    ['tabs, spaces around =, quoted values', () => `host=127.0.0.1\tport = '${PRIMARY}'  user=ann dbname='crm'`, () => ann, `ann|crm|${PRIMARY}|${PRIMARY}|t`],
    [
      'a URL, the password from PGPASSFILE',
      () => `postgresql://ann@127.0.0.1:${PRIMARY}/crm`,
      () => ({ PGPASSFILE: passfile }),
      `ann|crm|${PRIMARY}|${PRIMARY}|t`,
    ],
    ['no user: the OS user, its password from ~/.pgpass', () => `postgresql://127.0.0.1:${PRIMARY}/crm`, () => ({}), `root|crm|${PRIMARY}|${PRIMARY}|t`],
    [
      'an empty user in a URL and PGUSER="": the OS user, never ""',
      () => `postgresql://@127.0.0.1:${PRIMARY}/crm`,
      () => ({ PGUSER: '' }),
      `root|crm|${PRIMARY}|${PRIMARY}|t`,
    ],
    ["user='' in a keyword string", () => `user='' host=127.0.0.1 port=${PRIMARY} dbname=crm`, () => ({}), `root|crm|${PRIMARY}|${PRIMARY}|t`],
    [
      'the PG* variables alone',
      () => null,
      () => ({ PGHOST: '127.0.0.1', PGPORT: `${PRIMARY}`, PGUSER: 'ann', PGDATABASE: 'crm', ...ann }),
      `ann|crm|${PRIMARY}|${PRIMARY}|t`,
    ],
    [
      'the string over the PG* variables',
      () => `host=127.0.0.1 port=${PRIMARY} user=ann`,
      () => ({ PGPORT: '1', PGUSER: 'root', PGDATABASE: 'crm', ...ann }),
      `ann|crm|${PRIMARY}|${PRIMARY}|t`,
    ],
    ['a socket folder of its own (peer)', () => `host=${sock} port=${PRIMARY}`, () => ({}), `root|root||${PRIMARY}|f`],
    ['a URL with ?host=/socket/folder', () => `postgresql:///crm?host=${sock}&port=${PRIMARY}`, () => ({}), `root|crm||${PRIMARY}|f`],
    [
      'a URL with the socket folder percent-encoded as host',
      () => `postgresql://${encodeURIComponent(sock)}:${PRIMARY}/crm`,
      () => ({}),
      `root|crm||${PRIMARY}|f`,
    ],
    ['no host at all: the default socket folder', () => null, () => ({ PGPORT: `${PRIMARY}` }), `root|root||${PRIMARY}|f`],
    ['a bare word is a database name (psql -d crm)', () => 'crm', () => ({ PGHOST: sock, PGPORT: `${PRIMARY}` }), `root|crm||${PRIMARY}|f`],
    [
      'PGSERVICE, whose file outranks the PG* variables',
      () => null,
      () => ({ PGSERVICEFILE: serviceFile, PGSERVICE: 'crm', PGPORT: '1', ...ann }),
      `ann|crm|${PRIMARY}|${PRIMARY}|t`,
    ],
    [
      'service= in the string, the string outranking the file',
      () => 'service=crm user=root dbname=root',
      () => ({ PGSERVICEFILE: serviceFile, PGPASSWORD: 'rootpw' }),
      `root|root|${PRIMARY}|${PRIMARY}|t`,
    ],
    ['a wrong password fails', () => tcp, () => ({ PGPASSWORD: 'wrong' }), 'FAILED'],
    ['sslmode=disable', () => `${tcp} sslmode=disable`, () => ann, `ann|crm|${PRIMARY}|${PRIMARY}|f`],
    ['PGSSLMODE=require', () => tcp, () => ({ ...ann, PGSSLMODE: 'require' }), `ann|crm|${PRIMARY}|${PRIMARY}|t`],
    ['sslmode=allow: plain text first', () => `${tcp} sslmode=allow`, () => ann, `ann|crm|${PRIMARY}|${PRIMARY}|f`],
    [
      'sslmode=prefer against a server without TLS falls back',
      () => `host=127.0.0.1 port=${STANDBY} user=ann dbname=crm sslmode=prefer`,
      () => ann,
      `ann|crm|${STANDBY}|${STANDBY}|f`,
    ],
    ['sslmode=require against a server without TLS fails', () => `host=127.0.0.1 port=${STANDBY} user=ann dbname=crm sslmode=require`, () => ann, 'FAILED'],
    ['verify-ca with the right CA', () => `${tcp} sslmode=verify-ca`, () => ({ ...ann, PGSSLROOTCERT: certs.caCert }), `ann|crm|${PRIMARY}|${PRIMARY}|t`],
    ['verify-ca with another CA fails', () => `${tcp} sslmode=verify-ca`, () => ({ ...ann, PGSSLROOTCERT: certs.otherCaCert }), 'FAILED'],
    [
      'verify-full on 127.0.0.1 (an IP in the certificate)',
      () => `${tcp} sslmode=verify-full sslrootcert=${certs.caCert}`,
      () => ann,
      `ann|crm|${PRIMARY}|${PRIMARY}|t`,
    ],
    [
      'verify-full checks host while hostaddr is dialled',
      () => `host=${SERVER_NAME} hostaddr=127.0.0.1 port=${PRIMARY} user=ann dbname=crm sslmode=verify-full`,
      () => ({ ...ann, PGSSLROOTCERT: certs.caCert }),
      `ann|crm|${PRIMARY}|${PRIMARY}|t`,
    ],
    [
      'verify-full with a name the certificate lacks fails',
      () => `host=wrong.invalid hostaddr=127.0.0.1 port=${PRIMARY} user=ann dbname=crm sslmode=verify-full`,
      () => ({ ...ann, PGSSLROOTCERT: certs.caCert }),
      'FAILED',
    ],
    ['verify-full without any root certificate fails', () => `${tcp} sslmode=verify-full`, () => ann, 'FAILED'],
    ['hostaddr alone', () => `hostaddr=127.0.0.1 port=${PRIMARY} user=ann dbname=crm`, () => ann, `ann|crm|${PRIMARY}|${PRIMARY}|t`],
    [
      'a closed port first, then an open one',
      () => `host=127.0.0.1,127.0.0.1 port=${CLOSED},${PRIMARY} user=ann dbname=crm`,
      () => ann,
      `ann|crm|${PRIMARY}|${PRIMARY}|t`,
    ],
    [
      'any: the first that answers (the standby)',
      () => `host=127.0.0.1,127.0.0.1 port=${STANDBY},${PRIMARY} user=ann dbname=crm`,
      () => ann,
      `ann|crm|${STANDBY}|${STANDBY}|f`,
    ],
    [
      'read-write skips the standby',
      () => `host=127.0.0.1,127.0.0.1 port=${STANDBY},${PRIMARY} user=ann dbname=crm target_session_attrs=read-write`,
      () => ann,
      `ann|crm|${PRIMARY}|${PRIMARY}|t`,
    ],
    [
      'primary skips the standby',
      () => `host=127.0.0.1,127.0.0.1 port=${STANDBY},${PRIMARY} user=ann dbname=crm target_session_attrs=primary`,
      () => ann,
      `ann|crm|${PRIMARY}|${PRIMARY}|t`,
    ],
    [
      'standby skips the primary',
      () => `host=127.0.0.1,127.0.0.1 port=${PRIMARY},${STANDBY} user=ann dbname=crm target_session_attrs=standby`,
      () => ann,
      `ann|crm|${STANDBY}|${STANDBY}|f`,
    ],
    [
      'read-only takes the standby',
      () => `host=127.0.0.1,127.0.0.1 port=${PRIMARY},${STANDBY} user=ann dbname=crm target_session_attrs=read-only`,
      () => ann,
      `ann|crm|${STANDBY}|${STANDBY}|f`,
    ],
    [
      'prefer-standby takes a later standby',
      () => `host=127.0.0.1,127.0.0.1 port=${PRIMARY},${STANDBY} user=ann dbname=crm target_session_attrs=prefer-standby`,
      () => ann,
      `ann|crm|${STANDBY}|${STANDBY}|f`,
    ],
    [
      'prefer-standby with no standby up takes the primary',
      () => `host=127.0.0.1,127.0.0.1 port=${CLOSED},${PRIMARY} user=ann dbname=crm target_session_attrs=prefer-standby`,
      () => ann,
      `ann|crm|${PRIMARY}|${PRIMARY}|t`,
    ],
    ['standby with none up fails', () => `host=127.0.0.1 port=${PRIMARY} user=ann dbname=crm`, () => ({ ...ann, PGTARGETSESSIONATTRS: 'standby' }), 'FAILED'],
    [
      'a multi-host URL with target_session_attrs',
      () => `postgresql://ann@127.0.0.1:${STANDBY},127.0.0.1:${PRIMARY}/crm?target_session_attrs=read-write`,
      () => ann,
      `ann|crm|${PRIMARY}|${PRIMARY}|t`,
    ],
    [
      'a multi-host URL with an IPv6-style list and one port for all',
      () => `postgresql://127.0.0.1,127.0.0.1/crm?port=${PRIMARY}&user=ann`,
      () => ann,
      `ann|crm|${PRIMARY}|${PRIMARY}|t`,
    ],
  ];

  it.each(cases)('%s', async (_label, conninfo, env, expected) => {
    const [psql, psqlError] = await psqlSays(conninfo(), env());
    expect(psql, `psql ${psqlError}`).toBe(expected);
    expect(await toolSays(conninfo(), env()), 'lead-dedupe').toBe(psql);
  });

  it('`lead-dedupe scan` with no host connects as psql does: over the default socket folder, peer, as the OS user', async () => {
    assertBuilt();
    const env = environment({ PGPORT: `${PRIMARY}` });
    const seeded = await runFile(process.execPath, [BIN, 'seed', '--rows', '300', '--replace', '--quiet'], { ...process.env, ...env }, base);
    expect(seeded.stderr).toBe('');
    expect(seeded.code).toBe(0);
    const scan = await runCli(['scan', '--format', 'json'], { env, cwd: base });
    expect(scan.stderr).toBe('');
    const report = JSON.parse(scan.stdout) as { database: string; rows: number };
    expect(report.database).toBe(`${DEFAULT_SOCKETS}/.s.PGSQL.${PRIMARY}/root`);
    const count = await runFile('psql', ['-X', '-w', '-Atc', 'select count(*) from leads'], environment({ PGPORT: `${PRIMARY}` }), base);
    expect(Number(count.stdout)).toBe(300);
    expect(report.rows).toBe(300);
    // Over TCP the same server asks for a password (scram-sha-256): psql and the tool both fail without one.
    const overTcp = { ...environment({ PGHOST: '127.0.0.1', PGPORT: `${PRIMARY}`, PGPASSFILE: '/nonexistent' }) };
    expect((await runFile('psql', ['-X', '-w', '-Atc', 'select 1'], overTcp, base)).code).not.toBe(0);
    const refused = await runCli(['scan'], { env: { ...env, ...overTcp }, cwd: base });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^lead-dedupe: cannot connect to 127\.0\.0\.1:5460\/root: .*password/);
  });

  it('`lead-dedupe connection` shows where each setting came from, without connecting or showing the password', async () => {
    assertBuilt();
    const env = environment({ PGSERVICEFILE: serviceFile, PGSERVICE: 'crm', PGPASSWORD: 'annpw', PGSSLMODE: 'verify-full', PGSSLROOTCERT: certs.caCert });
    const result = await runCli(['connection', '--format', 'json', '-d', 'dbname=root'], { env, cwd: base });
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout) as { endpoints: string[]; settings: { setting: string; value: string; source: string }[] };
    expect(report.endpoints).toEqual([`127.0.0.1:${PRIMARY}`]);
    const from = Object.fromEntries(report.settings.map((row) => [row.setting, `${row.value} (${row.source})`]));
    expect(from.host).toBe(`127.0.0.1 (service crm (${serviceFile}))`);
    expect(from.dbname).toBe('root (--database)');
    expect(from.password).toBe('*** (PGPASSWORD)');
    expect(from.sslmode).toBe('verify-full (PGSSLMODE)');
    expect(result.stdout).not.toContain('annpw');
  });
});
