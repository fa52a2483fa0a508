import { describe, expect, it } from 'vitest';
import { detailsCopyStatement } from '../../src/scan/sql/details-sql.js';
import { removedRowsQuery } from '../../src/clean/restore/removed-rows-sql.js';
import { compileSql, fakeKey, fakeTable } from '../support/compile.js';

describe('user strings written as literals (statements that cannot bind them)', () => {
  it('the details COPY writes a key name as an E string: the same text whether standard_conforming_strings is on or off', () => {
    const key = fakeKey(fakeTable(['id', 'device_id', 'phone']), ['device_id', 'phone'], { name: `it\\'s'); select pg_sleep(5); --` });
    const { sql, parameters } = compileSql(detailsCopyStatement(key, true));
    expect(sql).toContain(`select  E'it\\\\''s''); select pg_sleep(5); --' as key,`);
    expect(parameters).toEqual([]);
  });

  it('a plain name stays a plain literal', () => {
    const key = fakeKey(fakeTable(['id', 'device_id', 'phone']), ['device_id', 'phone'], { name: "o'brien" });
    expect(compileSql(detailsCopyStatement(key, false)).sql).toContain(`select 'o''brien' as key,`);
  });

  it('the removed-rows export reads a column whose name holds a backslash the same way', () => {
    expect(compileSql(removedRowsQuery('lead_dedupe', 3, ['a\\b'])).sql).toContain(`r.row_data ->>  E'a\\\\b' as "a\\b"`);
  });
});
