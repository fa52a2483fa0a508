import { describe, expect, it } from 'vitest';
import { duplicateGroupsQuery } from '../../src/sql/duplicate-groups.js';
import { hashPartColumn, hashPartFilter } from '../../src/sql/hash-part.js';
import { keyPartScanQuery, topGroupsQuery } from '../../src/scan/sql/scan-sql.js';
import { compileSql, fakeKey, fakeTable } from '../support/compile.js';

const table = fakeTable(['id', 'device_id', 'phone', 'niche', 'created_at']);
table.info.columns.find((c) => c.name === 'device_id')!.type = 'integer';

describe('hash parts of a key', () => {
  it('split by a raw text column where there is one, else the first raw one, never a normalised one', () => {
    expect(hashPartColumn(fakeKey(table, ['device_id', 'phone']))).toBe('phone');
    expect(hashPartColumn(fakeKey(table, ['device_id']))).toBe('device_id');
    expect(hashPartColumn(fakeKey(table, ['device_id', { column: 'phone', normalize: 'e164' }], { callingCode: '60' }))).toBe('device_id');
    expect(hashPartColumn(fakeKey(table, [{ column: 'phone', normalize: 'digits' }]))).toBeNull();
  });

  it('never splits by a column whose equal values can differ as text (numeric, citext, float): the key runs whole', () => {
    const typed = fakeTable(['id', 'amount', 'email', 'score', 'code', 'ref']);
    const types: Record<string, string> = { amount: 'numeric(10,2)', email: 'citext', score: 'double precision', code: 'character varying(20)', ref: 'uuid' };
    for (const column of typed.info.columns) column.type = types[column.name] ?? 'bigint';
    expect(hashPartColumn(fakeKey(typed, ['amount', 'email', 'score']))).toBeNull();
    expect(hashPartColumn(fakeKey(typed, ['amount', 'ref']))).toBe('ref');
    expect(hashPartColumn(fakeKey(typed, ['ref', 'code']))).toBe('code');
    expect(hashPartColumn(fakeKey(typed, ['score', 'id']))).toBe('id');
  });

  it('filters on a non-negative hash that keeps NULLs in a part', () => {
    expect(compileSql(hashPartFilter(fakeKey(table, ['device_id', 'phone']), { index: 1, of: 3 }))).toEqual({
      sql: `(hashtext(coalesce("phone"::text, '')) & 2147483647) % 3 = 1`,
      parameters: [],
    });
  });

  it('refuses a part that is not one, and a key with no raw column', () => {
    const key = fakeKey(table, ['phone']);
    for (const part of [
      { index: 2, of: 2 },
      { index: -1, of: 2 },
      { index: 0, of: 1 },
      { index: 0.5, of: 2 },
    ]) {
      expect(() => hashPartFilter(key, part), JSON.stringify(part)).toThrow(/not a hash part/);
    }
    expect(() => hashPartFilter(fakeKey(table, [{ column: 'phone', normalize: 'lower' }]), { index: 0, of: 2 })).toThrow(/no raw column/);
  });

  it('puts the filter beside the NULL test, and inside the fence of a normalised key (each part normalises only its rows)', () => {
    const part = { index: 0, of: 2 };
    expect(compileSql(duplicateGroupsQuery(fakeKey(table, ['device_id', 'phone']), part)).sql).toContain(
      `where "device_id" is not null and "phone" is not null and (hashtext(coalesce("phone"::text, '')) & 2147483647) % 2 = 0\ngroup by 1, 2`,
    );
    const normalised = fakeKey(table, ['device_id', { column: 'phone', normalize: 'digits' }]);
    expect(compileSql(duplicateGroupsQuery(normalised, part)).sql).toContain(
      `from "public"."leads" where (hashtext(coalesce("device_id"::text, '')) & 2147483647) % 2 = 0 offset 0) as keyed`,
    );
  });

  it('a part lists its top candidates as text key values in the report order; --top 0 lists none', () => {
    const key = fakeKey(table, ['device_id', 'phone']);
    const { sql } = compileSql(keyPartScanQuery(key, 10, { index: 0, of: 2 }));
    expect(sql).toContain(`json_build_array("ld_k1"::text, "ld_k2"::text), 'n', n)`);
    expect(sql).toContain('from (select * from groups order by n desc, "ld_k1", "ld_k2" limit 10) as top)');
    expect(compileSql(keyPartScanQuery(key, 0, { index: 0, of: 2 })).sql).toContain('null::json as top');
  });

  it('reads the top groups filtered by the candidates as array parameters, a NULL value by IS NULL', () => {
    const key = fakeKey(table, ['device_id', 'phone'], { nullsEqual: true });
    const { sql, parameters } = compileSql(
      topGroupsQuery(
        key,
        [
          ['1', '601'],
          ['2', null],
        ],
        5,
      ),
    );
    expect(parameters).toEqual([['1', '2'], ['601']]);
    expect(sql).toContain(`where "l"."device_id" = any($1) and ("l"."phone" = any($2) or "l"."phone" is null)`);
    expect(sql).toContain('order by n desc, 1, 2\n  limit 5');
  });
});
