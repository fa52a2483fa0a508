import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.js';
import { asPostgres, postgresFile, postgresFolder } from './own-cluster.js';

/** The pgbouncer binary on the PATH, or null. */
export const PGBOUNCER = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v pgbouncer'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
})();

export interface PgBouncer {
  /** `serverUrl` (a database on the server) as reached through this PgBouncer. */
  url(serverUrl: string): string;
  /** Runs a command on PgBouncer's admin console (RECONNECT, SHOW SERVERS), synchronously: it is done when this returns. */
  admin(command: string): string;
  /** What PgBouncer logged so far. */
  log(): string;
  stop(): void;
}

/**
 * A PgBouncer of its own in front of `serverUrl`'s server, run as the postgres
 * OS user (own-cluster.ts), with trust auth, the pooling mode and pool size
 * given, and the `options` start-up parameter let through (docs/connecting.md).
 */
export async function startPgBouncer(serverUrl: string, settings: { poolMode: 'session' | 'transaction'; poolSize: number }): Promise<PgBouncer> {
  const server = new URL(serverUrl);
  const user = decodeURIComponent(server.username || 'postgres');
  const folder = postgresFolder(mkdtempSync(join(tmpdir(), 'lead-dedupe-pgbouncer-')));
  const port = await freePort();
  postgresFile(join(folder, 'users.txt'), `"${user}" ""\n`);
  postgresFile(
    join(folder, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${server.hostname.replace(/^\[|\]$/g, '')} port=${server.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'auth_type = trust',
      `auth_file = ${join(folder, 'users.txt')}`,
      `admin_users = ${user}`,
      `pool_mode = ${settings.poolMode}`,
      `default_pool_size = ${settings.poolSize}`,
      'unix_socket_dir =',
      `logfile = ${join(folder, 'pgbouncer.log')}`,
      `pidfile = ${join(folder, 'pgbouncer.pid')}`,
      'ignore_startup_parameters = extra_float_digits,options',
      '',
    ].join('\n'),
  );
  await asPostgres(PGBOUNCER!, ['-d', join(folder, 'pgbouncer.ini')], folder);
  const url = (database: string) => {
    const through = new URL(database);
    through.hostname = '127.0.0.1';
    through.port = String(port);
    return through.toString();
  };
  const adminUrl = (() => {
    const admin = new URL(url(serverUrl));
    admin.pathname = '/pgbouncer';
    return admin.toString();
  })();
  // -d returns once it forked, perhaps before it listens
  for (let tries = 0; ; tries++) {
    const client = new pg.Client({ connectionString: adminUrl });
    try {
      await client.connect();
      await client.end();
      break;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (tries > 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    admin: (command) => execFileSync('psql', ['-X', '-At', '-d', adminUrl, '-c', command], { encoding: 'utf8', env: { ...process.env, PGOPTIONS: '' } }),
    log: () => readFileSync(join(folder, 'pgbouncer.log'), 'utf8'),
    stop: () => {
      try {
        process.kill(Number(readFileSync(join(folder, 'pgbouncer.pid'), 'utf8')));
      } catch {
        // not started, or already gone: the tests say which
      }
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
