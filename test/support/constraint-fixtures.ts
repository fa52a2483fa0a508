import { CompiledQuery } from 'kysely';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { loadLeadTable } from '../../src/core/lead-table.js';
import type { Database } from '../../src/db/database.js';
import type { ResolvedKey } from '../../src/keys/key-definition.js';
import { resolveKeys, type KeySettings } from '../../src/keys/resolve-key.js';
import { PLAIN_KEY_SETTINGS } from './table-facts.js';
import type { TestDatabase } from './test-database.js';

/** Fixtures for the constraint suites, written by hand so the tests never rely on `clean`. */

export const plainSettings = PLAIN_KEY_SETTINGS;
export const e164Settings: Partial<KeySettings> = { normalize: { phone: 'e164' }, defaultCountry: 'MY' };

export async function keyFor(database: Database, table: string, key: string, settings: Partial<KeySettings> = {}): Promise<ResolvedKey> {
  const leadTable = await loadLeadTable(database.db, { table, idColumn: 'id', createdColumn: 'created_at' });
  return resolveKeys(leadTable, [key], { ...plainSettings, ...settings }).keys[0]!;
}

/** Keeps the oldest row of each (device_id, phone); `nullsEqual` also collapses NULL phones per device. */
export async function dedupeDevicePhone(test: TestDatabase, table: string, nullsEqual = false): Promise<void> {
  const same = nullsEqual ? 'k.phone is not distinct from l.phone' : 'k.phone = l.phone';
  await test.query(`delete from ${table} l using ${table} k
    where k.device_id = l.device_id and ${same} and (k.created_at, k.id) < (l.created_at, l.id)`);
}

/** Keeps the oldest row per (device_id, phone as libphonenumber-js reads it in MY): a second implementation of e164. */
export async function dedupeDeviceE164(test: TestDatabase, table: string): Promise<number> {
  const rows = await test.query<{ id: string; device_id: number; phone: string | null }>(
    `select id::text as id, device_id, phone from ${table} order by created_at, id`,
  );
  const seen = new Set<string>();
  const victims: string[] = [];
  for (const row of rows) {
    const phone = row.phone === null ? null : (parsePhoneNumberFromString(row.phone, 'MY')?.number ?? null);
    if (phone === null) continue;
    const key = `${row.device_id}|${phone}`;
    if (seen.has(key)) victims.push(row.id);
    else seen.add(key);
  }
  if (victims.length > 0) await test.query(`delete from ${table} where id in (${victims.join(', ')})`);
  return victims.length;
}

/** Runs a printed statement ($1..$n) with values, as the webhook's driver would. */
export async function runPrinted<R>(database: Database, text: string, values: unknown[]): Promise<R[]> {
  return (await database.db.executeQuery<R>(CompiledQuery.raw(text, values))).rows;
}

/** Unique indexes on a table, straight from pg_indexes / pg_index. */
export async function uniqueIndexesOf(test: TestDatabase, table: string): Promise<{ name: string; valid: boolean; def: string }[]> {
  return test.query(`select c.relname as name, i.indisvalid as valid, pg_get_indexdef(i.indexrelid) as def
    from pg_index i join pg_class c on c.oid = i.indexrelid
    where i.indrelid = '${table}'::regclass and i.indisunique order by 1`);
}

export async function uniqueConstraintsOf(test: TestDatabase, table: string): Promise<{ name: string; def: string }[]> {
  return test.query(`select conname as name, pg_get_constraintdef(oid) as def from pg_constraint
    where conrelid = '${table}'::regclass and contype = 'u' order by 1`);
}
