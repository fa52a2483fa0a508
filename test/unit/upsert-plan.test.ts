import { describe, expect, it } from 'vitest';
import { upsertStatement, type PolicyAction } from '../../src/sql/upsert-plan.js';
import { compileSql, fakeKey, fakeTable } from '../support/compile.js';
import { digitsSql } from '../support/normalized-sql.js';

const table = fakeTable(['id', 'device_id', 'user_id', 'phone', 'niche', 'name', 'email', 'submitted_at', 'last_seen_at', 'submit_count', 'created_at']);
const insertColumns = ['device_id', 'user_id', 'phone', 'niche', 'name', 'email', 'submitted_at'];
const devicePhone = fakeKey(table, ['device_id', 'phone']);
const statement = (action: PolicyAction, options: { key?: typeof devicePhone; columns?: string[]; predicate?: string } = {}) =>
  compileSql(upsertStatement(options.key ?? devicePhone, { action, insertColumns: options.columns ?? insertColumns, predicate: options.predicate ?? null }));

/** Step 1 of every statement: a target-less DO NOTHING absorbs a conflict on any unique index. */
const inserted = `with "inserted" as (
  insert into "public"."leads" ("device_id", "user_id", "phone", "niche", "name", "email", "submitted_at")
  values ($1, $2, $3, $4, $5, $6, $7)
  on conflict do nothing
  returning "id" as "id"
)`;
const again = (guards: string) => `  insert into "public"."leads" as "stored" ("device_id", "user_id", "phone", "niche", "name", "email", "submitted_at")
  select $1, $2, $3, $4, $5, $6, $7 where ${guards}
  on conflict ("device_id", "phone")`;
const returning = `  returning "stored"."id" as "id", "stored"."xmax" = 0 as "fresh"`;
const existing = `"existing" as (
${again('not exists (select from "inserted") and not exists (select from "updated")')} do update set "device_id" = "stored"."device_id"
${returning}
)`;
const tail = `select "id", 'inserted' as "outcome" from "inserted"
union all select "id", case when "fresh" then 'inserted' else 'updated' end from "updated"
union all select "id", case when "fresh" then 'inserted' else 'existed' end from "existing"`;

describe('upsertStatement: one row (id, outcome) on every path, a NULL never erases', () => {
  it('skip: DO NOTHING on any index, then a no-op DO UPDATE on the arbiter returns the stored id', () => {
    expect(statement({ policy: 'skip' })).toEqual({
      sql: `${inserted}, "existing" as (
${again('not exists (select from "inserted")')} do update set "device_id" = "stored"."device_id"
${returning}
)
select "id", 'inserted' as "outcome" from "inserted"
union all select "id", case when "fresh" then 'inserted' else 'existed' end from "existing"`,
      parameters: [],
    });
  });

  it('fill: coalesce(stored, excluded), only when the stored lead lacks a value the retry has', () => {
    expect(statement({ policy: 'fill', columns: ['name', 'email'] }).sql).toBe(`${inserted}, "updated" as (
${again('not exists (select from "inserted")')} do update set "name" = coalesce("stored"."name", "excluded"."name"), "email" = coalesce("stored"."email", "excluded"."email")
  where ("stored"."name" is null and "excluded"."name" is not null) or ("stored"."email" is null and "excluded"."email" is not null)
${returning}
), ${existing}
${tail}`);
  });

  it('overwrite: coalesce(excluded, stored), only when a non-NULL retry value differs', () => {
    expect(statement({ policy: 'overwrite', columns: ['name', 'email'] }).sql).toBe(`${inserted}, "updated" as (
${again('not exists (select from "inserted")')} do update set "name" = coalesce("excluded"."name", "stored"."name"), "email" = coalesce("excluded"."email", "stored"."email")
  where ("excluded"."name" is not null and "excluded"."name" is distinct from "stored"."name") or ("excluded"."email" is not null and "excluded"."email" is distinct from "stored"."email")
${returning}
), ${existing}
${tail}`);
  });

  it('touch: timestamps to now() (or the retry value when inserted), counters +1, always updated', () => {
    const action: PolicyAction = {
      policy: 'touch',
      timestamps: [
        { column: 'last_seen_at', inserted: false },
        { column: 'submitted_at', inserted: true },
      ],
      counters: ['submit_count'],
    };
    expect(statement(action).sql).toBe(`${inserted}, "updated" as (
${again('not exists (select from "inserted")')} do update set "last_seen_at" = now(), "submitted_at" = coalesce("excluded"."submitted_at", now()), "submit_count" = coalesce("stored"."submit_count", 0) + 1
${returning}
)
select "id", 'inserted' as "outcome" from "inserted"
union all select "id", case when "fresh" then 'inserted' else 'updated' end from "updated"`);
  });

  it('newer: the retry non-NULL values win only when its timestamp is later', () => {
    expect(statement({ policy: 'newer', column: 'submitted_at', columns: ['name'] }).sql).toBe(`${inserted}, "updated" as (
${again('not exists (select from "inserted")')} do update set "submitted_at" = "excluded"."submitted_at", "name" = coalesce("excluded"."name", "stored"."name")
  where "excluded"."submitted_at" > "stored"."submitted_at" or ("stored"."submitted_at" is null and "excluded"."submitted_at" is not null)
${returning}
), ${existing}
${tail}`);
  });

  it('a partial arbiter: ON CONFLICT repeats its predicate as the catalog prints it', () => {
    expect(statement({ policy: 'skip' }, { predicate: 'deleted_at IS NULL' }).sql).toContain(
      `on conflict ("device_id", "phone") where deleted_at IS NULL do update set "device_id" = "stored"."device_id"`,
    );
  });

  it("a normalised key names the rule's short function as the conflict target; the no-op update keeps a plain column", () => {
    const key = fakeKey(table, ['device_id', { column: 'phone', normalize: 'digits' }]);
    expect(statement({ policy: 'skip' }, { key, columns: ['device_id', 'phone'] }).sql).toContain(
      `on conflict ("device_id", lead_dedupe.digits_v1("phone")) do update set "device_id" = "stored"."device_id"`,
    );
    const phoneFirst = fakeKey(table, [{ column: 'phone', normalize: 'digits' }]);
    expect(statement({ policy: 'skip' }, { key: phoneFirst, columns: ['phone'] }).sql).toContain(
      `on conflict (lead_dedupe.digits_v1("phone")) do update set "phone" = "stored"."phone"`,
    );
    // an index built by an earlier version, with no function there yet: the inline expression
    expect(compileSql(upsertStatement(key, { action: { policy: 'skip' }, insertColumns: ['device_id', 'phone'], conflictForm: 'inline' })).sql).toContain(
      `on conflict ("device_id", (${digitsSql('"phone"')})) do update`,
    );
  });

  it('the conflict target of an e164 key stays short (issue 25: it was ~1.9 KB)', () => {
    const key = fakeKey(table, ['device_id', 'user_id', { column: 'phone', normalize: 'e164' }, 'niche'], { callingCode: '60' });
    const text = compileSql(upsertStatement(key, { action: { policy: 'skip' }, insertColumns: ['device_id', 'user_id', 'phone', 'niche'] })).sql;
    const target = /on conflict (\(.*\)) do update/.exec(text)![1]!;
    expect(target).toBe('("device_id", "user_id", lead_dedupe.e164_60_v1("phone"), "niche")');
    expect(target.length).toBeLessThan(200);
  });

  it('quotes a column named order, an odd table and an id column of another name', () => {
    const odd = fakeTable(['lead id', 'order', 'note'], 'Sales Data', 'Leads');
    const key = fakeKey({ ...odd, idColumn: 'lead id' }, ['order']);
    expect(compileSql(upsertStatement(key, { action: { policy: 'fill', columns: ['note'] }, insertColumns: ['order', 'note'] })).sql).toBe(`with "inserted" as (
  insert into "Sales Data"."Leads" ("order", "note")
  values ($1, $2)
  on conflict do nothing
  returning "lead id" as "id"
), "updated" as (
  insert into "Sales Data"."Leads" as "stored" ("order", "note")
  select $1, $2 where not exists (select from "inserted")
  on conflict ("order") do update set "note" = coalesce("stored"."note", "excluded"."note")
  where ("stored"."note" is null and "excluded"."note" is not null)
  returning "stored"."lead id" as "id", "stored"."xmax" = 0 as "fresh"
), "existing" as (
  insert into "Sales Data"."Leads" as "stored" ("order", "note")
  select $1, $2 where not exists (select from "inserted") and not exists (select from "updated")
  on conflict ("order") do update set "order" = "stored"."order"
  returning "stored"."lead id" as "id", "stored"."xmax" = 0 as "fresh"
)
${tail}`);
  });
});

describe('upsertStatement on a partitioned table', () => {
  it('reads no xmax (RETURNING cannot there): steps 2 and 3 report updated/existed', () => {
    const sql = compileSql(upsertStatement(devicePhone, { action: { policy: 'skip' }, insertColumns, xmax: false })).sql;
    expect(sql).toContain(`returning "stored"."id" as "id", false as "fresh"`);
    expect(sql).not.toContain('xmax');
  });
});

describe('upsertStatement: the no-op update of step 3', () => {
  it('sets the column the core names (never a GENERATED ALWAYS identity, which UPDATE may only set to DEFAULT)', () => {
    const key = fakeKey(table, ['id']);
    expect(compileSql(upsertStatement(key, { action: { policy: 'skip' }, insertColumns: ['id', 'phone'], keep: 'phone' })).sql).toContain(
      `on conflict ("id") do update set "phone" = "stored"."phone"`,
    );
  });
});
