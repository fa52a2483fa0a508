import { describe, expect, it } from 'vitest';
import { upsertStatement } from '../../src/sql/upsert-plan.js';
import { compileSql, fakeKey, fakeTable } from '../support/compile.js';
import { digitsSql } from '../support/normalized-sql.js';

const table = fakeTable(['id', 'device_id', 'user_id', 'phone', 'niche', 'name', 'created_at']);
const insertColumns = ['device_id', 'user_id', 'phone', 'niche', 'name'];

describe('upsertStatement', () => {
  it('skip: DO NOTHING on the key columns, returning the id only when inserted', () => {
    const key = fakeKey(table, ['device_id', 'user_id', 'phone', 'niche']);
    expect(compileSql(upsertStatement(key, { onDuplicate: 'skip', insertColumns, updateColumns: [] }))).toEqual({
      sql: `insert into "public"."leads" ("device_id", "user_id", "phone", "niche", "name")
values ($1, $2, $3, $4, $5)
on conflict ("device_id", "user_id", "phone", "niche") do nothing
returning "id"`,
      parameters: [],
    });
  });

  it('update: refreshes the chosen columns from excluded and tells inserted from updated', () => {
    const key = fakeKey(table, ['device_id', 'phone']);
    expect(compileSql(upsertStatement(key, { onDuplicate: 'update', insertColumns, updateColumns: ['niche', 'name'] })).sql).toBe(
      `insert into "public"."leads" ("device_id", "user_id", "phone", "niche", "name")
values ($1, $2, $3, $4, $5)
on conflict ("device_id", "phone") do update set "niche" = "excluded"."niche", "name" = "excluded"."name"
returning "id", (xmax = 0) as inserted`,
    );
  });

  it('a normalised key names the index expression as the conflict target', () => {
    const key = fakeKey(table, ['device_id', { column: 'phone', normalize: 'digits' }]);
    expect(compileSql(upsertStatement(key, { onDuplicate: 'skip', insertColumns: ['device_id', 'phone'], updateColumns: [] })).sql).toBe(
      `insert into "public"."leads" ("device_id", "phone")
values ($1, $2)
on conflict ("device_id", lead_dedupe.digits_v1("phone")) do nothing
returning "id"`,
    );
    // an index built by an earlier version, with no function there yet: the inline expression
    expect(
      compileSql(upsertStatement(key, { onDuplicate: 'skip', insertColumns: ['device_id', 'phone'], updateColumns: [], conflictForm: 'inline' })).sql,
    ).toContain(`on conflict ("device_id", (${digitsSql('"phone"')})) do nothing`);
  });

  it('the conflict target of an e164 key stays short (issue 25: it was ~1.9 KB)', () => {
    const key = fakeKey(table, ['device_id', 'user_id', { column: 'phone', normalize: 'e164' }, 'niche'], { callingCode: '60' });
    const text = compileSql(upsertStatement(key, { onDuplicate: 'skip', insertColumns: ['device_id', 'user_id', 'phone', 'niche'], updateColumns: [] })).sql;
    const target = /on conflict (\(.*\)) do nothing/.exec(text)![1]!;
    expect(target).toBe('("device_id", "user_id", lead_dedupe.e164_60_v1("phone"), "niche")');
    expect(target.length).toBeLessThan(200);
  });

  it('needs nothing extra for NULLS NOT DISTINCT (the arbiter is inferred from the elements)', () => {
    const key = fakeKey(table, ['phone'], { nullsEqual: true });
    expect(compileSql(upsertStatement(key, { onDuplicate: 'skip', insertColumns: ['phone'], updateColumns: [] })).sql).toBe(
      `insert into "public"."leads" ("phone")
values ($1)
on conflict ("phone") do nothing
returning "id"`,
    );
  });

  it('quotes a column named order and an odd table', () => {
    const odd = fakeTable(['id', 'order', 'note'], 'Sales Data', 'Leads');
    const key = fakeKey(odd, ['order']);
    expect(compileSql(upsertStatement(key, { onDuplicate: 'update', insertColumns: ['order', 'note'], updateColumns: ['note'] })).sql).toBe(
      `insert into "Sales Data"."Leads" ("order", "note")
values ($1, $2)
on conflict ("order") do update set "note" = "excluded"."note"
returning "id", (xmax = 0) as inserted`,
    );
  });
});
