import { execFile } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * PostgreSQL clusters a suite starts for itself (own data folder, own port,
 * own socket folder), as the postgres OS user, for settings the shared
 * server must not change: pg_hba rules, TLS, a standby. Each suite starts
 * them in beforeAll and stops them in afterAll.
 */

const run = promisify(execFile);

/** The newest installed server's programs (Debian: /usr/lib/postgresql/<major>/bin), or null. */
export const PG_BIN: string | null = (() => {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const majors = readdirSync(root).filter((name) => existsSync(join(root, name, 'bin', 'initdb')));
  majors.sort((a, b) => Number(b) - Number(a));
  return majors.length === 0 ? null : join(root, majors[0]!, 'bin');
})();

const IS_ROOT = process.getuid?.() === 0;

/**
 * Clusters can run here: the server's programs are installed and this
 * process is root (it runs them as postgres) or postgres itself. Under CI
 * they must: a missing piece is an error there, not a skip.
 */
export function ownClustersAvailable(): boolean {
  const available = PG_BIN !== null && (IS_ROOT || process.env.USER === 'postgres');
  if (!available && process.env.CI) throw new Error('own-cluster tests need /usr/lib/postgresql/<major>/bin/initdb and root (they run it as postgres)');
  return available;
}

/** Runs a program as the postgres OS user, in `cwd` (which postgres can enter). */
export async function asPostgres(program: string, args: string[], cwd: string): Promise<string> {
  const [file, all] = IS_ROOT ? ['runuser', ['-u', 'postgres', '--', program, ...args]] : [program, args];
  const { stdout } = await run(file, all, { cwd, env: { ...process.env, PGOPTIONS: '' }, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** A folder the postgres OS user owns. */
export function postgresFolder(path: string, mode = 0o700): string {
  mkdirSync(path, { recursive: true });
  if (IS_ROOT) {
    const { uid, gid } = postgresIds();
    chownSync(path, uid, gid);
  }
  chmodSync(path, mode);
  return path;
}

/** A file only the postgres OS user reads (a server key). */
export function postgresFile(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
  if (IS_ROOT) {
    const { uid, gid } = postgresIds();
    chownSync(path, uid, gid);
  }
}

function postgresIds(): { uid: number; gid: number } {
  const entry = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .find((fields) => fields[0] === 'postgres');
  if (entry === undefined) throw new Error('no postgres OS user');
  return { uid: Number(entry[2]), gid: Number(entry[3]) };
}

export interface OwnCluster {
  dataDir: string;
  port: number;
  /** SQL as the postgres superuser over the cluster's own socket. */
  sql(text: string, database?: string): Promise<string>;
  stop(): Promise<void>;
}

export interface ClusterSettings {
  dataDir: string;
  port: number;
  /** Socket folders (the first is the cluster's own). */
  socketDirs: string[];
  hba: string;
  /** Extra postgresql.conf lines. */
  conf?: string[];
}

/** initdb, our pg_hba.conf and settings, start and wait. */
export async function startCluster(settings: ClusterSettings, cwd: string): Promise<OwnCluster> {
  await asPostgres(join(PG_BIN!, 'initdb'), ['-D', settings.dataDir, '-U', 'postgres', '--no-sync', '-A', 'trust'], cwd);
  writeFileSync(join(settings.dataDir, 'pg_hba.conf'), settings.hba);
  appendFileSync(
    join(settings.dataDir, 'postgresql.conf'),
    [
      `port = ${settings.port}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${settings.socketDirs.join(',')}'`,
      'fsync = off',
      'max_connections = 30',
      ...(settings.conf ?? []),
      '',
    ].join('\n'),
  );
  return startExisting(settings.dataDir, settings.port, settings.socketDirs[0]!, cwd);
}

/** Starts a data folder that already exists (a base backup), with `options` for the server. */
export async function startExisting(dataDir: string, port: number, socketDir: string, cwd: string, options = ''): Promise<OwnCluster> {
  await asPostgres(join(PG_BIN!, 'pg_ctl'), ['-D', dataDir, '-l', join(dataDir, 'server.log'), '-w', '-t', '60', '-o', `-p ${port} ${options}`, 'start'], cwd);
  return {
    dataDir,
    port,
    sql: (text, database = 'postgres') =>
      asPostgres('psql', ['-X', '-h', socketDir, '-p', String(port), '-U', 'postgres', '-d', database, '-v', 'ON_ERROR_STOP=1', '-Atc', text], cwd),
    stop: async () => {
      await asPostgres(join(PG_BIN!, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop'], cwd).catch(() => undefined);
    },
  };
}
