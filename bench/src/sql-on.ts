import pg from 'pg';
import { serverClientConfig } from '../../src/db/server-client-config.js';

/** Runs statements in order on one connection; returns each one's rows. */
export async function sqlOn(url: string, statements: string[]): Promise<Record<string, unknown>[][]> {
  const client = new pg.Client(await serverClientConfig(url));
  await client.connect();
  try {
    const results: Record<string, unknown>[][] = [];
    for (const statement of statements) results.push((await client.query(statement)).rows);
    return results;
  } finally {
    await client.end();
  }
}

/** The server settings that matter to the figures (work_mem, parallel workers, jit, shared_buffers, …), recorded with each result. */
export async function serverSettings(url: string): Promise<Record<string, string>> {
  const client = new pg.Client(await serverClientConfig(url));
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; setting: string }>(`
      select name, setting from pg_settings
      where name in ('server_version', 'shared_buffers', 'work_mem', 'hash_mem_multiplier', 'maintenance_work_mem', 'jit',
                     'max_parallel_workers_per_gather', 'max_parallel_workers', 'max_parallel_maintenance_workers',
                     'effective_cache_size', 'synchronous_commit', 'lc_collate')
      order by name`);
    // current_setting() gives the unit (128MB rather than 16384 pages of 8kB)
    const { rows: shown } = await client.query<{ work_mem: string; shared_buffers: string; effective_cache_size: string; maintenance_work_mem: string }>(
      `select current_setting('work_mem') as work_mem, current_setting('shared_buffers') as shared_buffers,
              current_setting('effective_cache_size') as effective_cache_size, current_setting('maintenance_work_mem') as maintenance_work_mem`,
    );
    return { ...Object.fromEntries(rows.map((r) => [r.name, r.setting])), ...shown[0] };
  } finally {
    await client.end();
  }
}

export function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}
