import { describe, expect, it } from 'vitest';
import { duplicateGroupsQuery } from '../../src/sql/duplicate-groups.js';
import { keyScanQuery, keyScanWithRowCountQuery } from '../../src/scan/sql/scan-sql.js';
import { detailsQuery } from '../../src/scan/sql/details-sql.js';
import { compileSql, fakeDistributedTable, fakeKey, fakeTable } from '../support/compile.js';
import { digitsSql, e164Sql } from '../support/normalized-sql.js';

const table = fakeTable(['id', 'device_id', 'phone', 'niche', 'created_at']);

describe('duplicateGroupsQuery', () => {
  it('groups plain columns and keeps rows with a NULL out', () => {
    expect(compileSql(duplicateGroupsQuery(fakeKey(table, ['device_id', 'phone'])))).toEqual({
      sql: `select "device_id" as "ld_k1", "phone" as "ld_k2", count(*) as n
from "public"."leads"
where "device_id" is not null and "phone" is not null
group by 1, 2
having count(*) > 1`,
      parameters: [],
    });
  });

  it('groups NULLs together when NULLs are equal', () => {
    const { sql } = compileSql(duplicateGroupsQuery(fakeKey(table, ['phone'], { nullsEqual: true })));
    expect(sql).toContain('where true\ngroup by 1\n');
  });

  it('groups by the normalised expression, computed once per row behind an OFFSET 0 fence', () => {
    const key = fakeKey(table, ['device_id', { column: 'phone', normalize: 'e164' }], { callingCode: '60' });
    const { sql, parameters } = compileSql(duplicateGroupsQuery(key));
    expect(parameters).toEqual([]);
    expect(
      sql.startsWith(`select "ld_k1", "ld_k2", count(*) as n
from (select "device_id" as "ld_k1", ${e164Sql('"phone"', '60')} as "ld_k2" from`),
    ).toBe(true);
    expect(
      sql.endsWith(`as "ld_k2" from "public"."leads" offset 0) as keyed
where "ld_k1" is not null and "ld_k2" is not null
group by 1, 2
having count(*) > 1`),
    ).toBe(true);
  });

  it('on a Citus distributed table groups without the fenced subquery (Citus would pull it to the coordinator) and tests NULLs per group, inside a CASE where the shards group whole', () => {
    const distributed = fakeDistributedTable(table, 'device_id', 8);
    const key = fakeKey(distributed, ['device_id', { column: 'phone', normalize: 'lower' }]);
    expect(compileSql(duplicateGroupsQuery(key)).sql).toBe(`select "device_id" as "ld_k1", pg_catalog.lower(pg_catalog.btrim("phone")) as "ld_k2", count(*) as n
from "public"."leads"
group by 1, 2
having case when "device_id" is not null and pg_catalog.lower(pg_catalog.btrim("phone")) is not null then count(*) > 1 else false end`);
    expect(compileSql(duplicateGroupsQuery({ ...key, nullsEqual: true })).sql).toMatch(/\nhaving count\(\*\) > 1$/);
    // a key without the distribution column is merged across shards on the coordinator, which takes plain conditions only
    const acrossShards = fakeKey(distributed, ['user_id', { column: 'phone', normalize: 'lower' }]);
    expect(compileSql(duplicateGroupsQuery(acrossShards)).sql).toMatch(
      /\nhaving count\(\*\) > 1 and "user_id" is not null and pg_catalog.lower\(pg_catalog.btrim\("phone"\)\) is not null$/,
    );
  });

  it('quotes names as identifiers, never as SQL', () => {
    const odd = fakeTable(['id', 'order', 'Niche', 'x"; drop table leads; --'], 'Sales Data', 'Leads');
    const { sql } = compileSql(duplicateGroupsQuery(fakeKey(odd, ['order', 'Niche', 'x"; drop table leads; --'])));
    expect(sql).toContain(`select "order" as "ld_k1", "Niche" as "ld_k2", "x""; drop table leads; --" as "ld_k3"`);
    expect(sql).toContain(`from "Sales Data"."Leads"`);
  });
});

describe('keyScanQuery', () => {
  it('aggregates once, materialised, and reads the table again only for the top groups', () => {
    const { sql } = compileSql(keyScanQuery(fakeKey(table, ['device_id', 'phone']), 10));
    expect(sql.startsWith('with groups as materialized (\nselect "device_id" as "ld_k1"')).toBe(true);
    expect(sql).toContain('select * from groups order by n desc, "ld_k1", "ld_k2" limit 10');
    expect(sql).toContain(
      'from top join (select * from "public"."leads" as l where "l"."device_id" = any(array(select "ld_k1" from top)) and "l"."phone" = any(array(select "ld_k2" from top))) as l on "l"."device_id" = "top"."ld_k1" and "l"."phone" = "top"."ld_k2"',
    );
    expect(sql).toContain('(array_agg("l"."id"::text order by "l"."created_at" asc nulls last, "l"."id" asc))[1:5] as ids');
    expect(sql).toContain('count(*) filter (where n between 4 and 9)');
    expect(sql).toContain('count(*) filter (where n >= 20)');
  });

  it('with --top 0 is the summary over the duplicate groups alone: no materialised groups, no second read', () => {
    const { sql } = compileSql(keyScanQuery(fakeKey(table, ['device_id', 'phone']), 0));
    expect(sql.startsWith('select count(*) as groups,')).toBe(true);
    expect(sql).toContain('null::json as top\nfrom (select "device_id" as "ld_k1", "phone" as "ld_k2", count(*) as n');
    expect(sql).not.toContain('materialized');
    expect(sql).not.toContain('top_detail');
  });

  it('with the row count: every group of the table, NULL keys and single rows too, the duplicates picked by the filter', () => {
    expect(compileSql(keyScanWithRowCountQuery(fakeKey(table, ['device_id', 'phone']))).sql).toBe(
      `select count(*) filter (where n > 1 and "ld_k1" is not null and "ld_k2" is not null) as groups,
       coalesce(sum(n) filter (where n > 1 and "ld_k1" is not null and "ld_k2" is not null), 0) as rows_in_groups,
       max(n) filter (where n > 1 and "ld_k1" is not null and "ld_k2" is not null) as largest,
       array[count(*) filter (where n > 1 and "ld_k1" is not null and "ld_k2" is not null and n between 2 and 2), count(*) filter (where n > 1 and "ld_k1" is not null and "ld_k2" is not null and n between 3 and 3), count(*) filter (where n > 1 and "ld_k1" is not null and "ld_k2" is not null and n between 4 and 9), count(*) filter (where n > 1 and "ld_k1" is not null and "ld_k2" is not null and n between 10 and 19), count(*) filter (where n > 1 and "ld_k1" is not null and "ld_k2" is not null and n >= 20)] as buckets, coalesce(sum(n), 0) as table_rows, null::json as top
from (select "device_id" as "ld_k1", "phone" as "ld_k2", count(*) as n
from "public"."leads"
group by 1, 2) as groups`,
    );
    const nullsEqual = compileSql(keyScanWithRowCountQuery(fakeKey(table, ['phone'], { nullsEqual: true }))).sql;
    expect(nullsEqual.startsWith('select count(*) filter (where n > 1) as groups,')).toBe(true);
    const normalised = compileSql(keyScanWithRowCountQuery(fakeKey(table, ['device_id', { column: 'phone', normalize: 'digits' }]))).sql;
    expect(normalised).toContain(`from (select "device_id" as "ld_k1", ${digitsSql('"phone"')} as "ld_k2", count(*) as n`);
  });

  it('hashes the top-groups join on raw columns and filters on the normalised ones', () => {
    const key = fakeKey(table, ['device_id', { column: 'phone', normalize: 'digits' }]);
    const { sql } = compileSql(keyScanQuery(key, 10));
    expect(sql).toContain(`on "l"."device_id" = "top"."ld_k1" and (${digitsSql('"l"."phone"')} = "top"."ld_k2") is true`);
    // only the raw column filters the second read: a normalised value would cost a regular expression per row
    expect(sql).toContain('where "l"."device_id" = any(array(select "ld_k1" from top))) as l');
  });

  it('matches NULL-equal keys through hashable JSON arrays', () => {
    const { sql } = compileSql(keyScanQuery(fakeKey(table, ['device_id', 'phone'], { nullsEqual: true }), 3));
    expect(sql).toContain('on jsonb_build_array("l"."device_id", "l"."phone") = jsonb_build_array("top"."ld_k1", "top"."ld_k2")');
    // = ANY never matches NULL, so a NULL-equal key reads the table unfiltered
    expect(sql).toContain('where true) as l');
  });
});

describe('detailsQuery', () => {
  it('ranks rows oldest first inside each group, names the group by its md5, and sorts once', () => {
    const { sql } = compileSql(detailsQuery(fakeKey(table, ['device_id', 'phone'])));
    expect(sql.startsWith('with groups as materialized (\nselect "device_id" as "ld_k1"')).toBe(true);
    expect(sql).toContain('md5(jsonb_build_array("l"."device_id", "l"."phone")::text) as group_id');
    expect(sql).toContain('(count(*) over in_key)::text as group_size');
    expect(sql).toContain('(row_number() over in_group = 1)::text as keep');
    expect(sql).toContain('"l"."phone"::text as "phone"');
    expect(sql).toContain(
      'window in_key as (partition by "l"."device_id", "l"."phone"),\n       in_group as (in_key order by "l"."created_at" asc nulls last, "l"."id" asc)',
    );
    expect(sql).toMatch(/order by "l"."device_id", "l"."phone", "l"."created_at" asc nulls last, "l"."id" asc$/);
  });

  it('picks the rows with a semi-join, so the groups are hashed rather than the table', () => {
    const { sql } = compileSql(detailsQuery(fakeKey(table, ['device_id', 'phone'])));
    expect(sql).toContain('where exists (select from groups as g where "l"."device_id" = "g"."ld_k1" and "l"."phone" = "g"."ld_k2")');
    expect(sql).not.toContain('join groups');
  });

  it('keeps the join to the groups on a Citus distributed table', () => {
    const distributed = fakeTable(['id', 'device_id', 'phone', 'created_at']);
    distributed.info.distribution = { kind: 'distributed', column: 'device_id' } as never;
    const { sql } = compileSql(detailsQuery(fakeKey(distributed, ['device_id', 'phone'])));
    expect(sql).toContain('md5(jsonb_build_array("g"."ld_k1", "g"."ld_k2")::text) as group_id');
    expect(sql).toContain('g.n::text as group_size');
    expect(sql).toContain('join groups as g on "l"."device_id" = "g"."ld_k1" and "l"."phone" = "g"."ld_k2"');
    expect(sql).toMatch(/order by "g"."ld_k1", "g"."ld_k2", "l"."created_at" asc nulls last, "l"."id" asc$/);
  });

  it('writes timestamps as JSON does (ISO 8601 with the offset, like --export-removed), other columns as text', () => {
    const timed = fakeTable(['id', 'device_id', 'phone', 'created_at']);
    timed.info.columns[3]!.type = 'timestamp with time zone';
    const { sql } = compileSql(detailsQuery(fakeKey(timed, ['device_id', 'phone'])));
    expect(sql).toContain(`to_json("l"."created_at") #>> '{}' as "created_at"`);
    expect(sql).toContain('"l"."phone"::text as "phone"');
  });
});
