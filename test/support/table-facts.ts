import type { KeySettings } from '../../src/keys/resolve-key.js';

/** Anything with a hand-written query: a TestDatabase, or a wrapper around another session. */
interface Queryable {
  query<R = Record<string, unknown>>(text: string): Promise<R[]>;
}

/** Key settings with nothing configured: no column map, no normalisation, NULLs distinct. */
export const PLAIN_KEY_SETTINGS: KeySettings = { columnMap: {}, normalize: {}, defaultCountry: null, nullsEqual: false, customKeys: [] };

/** Rows a hand-written query returns (`select … from leads where …`), counted by PostgreSQL. */
export async function countRows(db: Queryable, query: string): Promise<number> {
  return Number((await db.query<{ n: string }>(`select count(*) as n from (${query}) q`))[0]!.n);
}

/** md5 of a table's rows in id order: equal before a clean and after its restore, or something was lost. */
export async function tableChecksum(db: Queryable, table: string): Promise<string> {
  return (await db.query<{ md5: string | null }>(`select md5(string_agg(t::text, ',' order by id)) as md5 from ${table} t`))[0]!.md5 ?? '';
}
