import { describe, expect, it } from 'vitest';
import { cleanCommandFor, SAME_SHELL } from '../../src/keys/key-command-line.js';
import { checkIndexName, checkNullsEqualSupported } from '../../src/core/constraint/options.js';
import { parseDuration } from '../../src/cli/parse/duration.js';
import { pgDuration } from '../../src/sql/pg-duration.js';
import { UsageError } from '../../src/errors.js';
import {
  attachConstraintStatement,
  attachPartitionIndexStatement,
  createPartitionIndexStatement,
  createUniqueIndexStatement,
  defaultIndexName,
  dropConstraintStatement,
  dropIndexStatement,
  indexElements,
  indexNameFor,
  setLocalLockTimeoutStatement,
} from '../../src/sql/constraint-plan.js';
import { createNormalizeFunctionStatement } from '../../src/sql/normalize-function-plan.js';
import { normalizeFunctionFor } from '../../src/keys/normalize-function.js';
import { compileSql, fakeKey, fakeTable } from '../support/compile.js';
import { e164Sql } from '../support/normalized-sql.js';

const table = fakeTable(['id', 'device_id', 'user_id', 'phone', 'niche', 'created_at']);
const devicePhone = fakeKey(table, ['device_id', 'phone'], { name: 'device-phone' });
const e164Key = fakeKey(table, ['device_id', { column: 'phone', normalize: 'e164' }], { name: 'device-phone', callingCode: '60', defaultCountry: 'MY' });

const E164_PHONE = e164Sql('"phone"', '60');

describe('createUniqueIndexStatement', () => {
  it('builds a plain-column key concurrently', () => {
    expect(compileSql(createUniqueIndexStatement(devicePhone, 'leads_device_id_phone_key', { concurrently: true }))).toEqual({
      sql: 'create unique index concurrently "leads_device_id_phone_key" on "public"."leads" ("device_id", "phone")',
      parameters: [],
    });
  });

  it('falls back to a plain build (PGlite)', () => {
    expect(compileSql(createUniqueIndexStatement(devicePhone, 'x', { concurrently: false })).sql).toBe(
      'create unique index "x" on "public"."leads" ("device_id", "phone")',
    );
  });

  it("indexes a normalised column through its rule's short function, whose body is exactly the expression scan groups by", () => {
    expect(compileSql(createUniqueIndexStatement(e164Key, 'leads_device_id_phone_e164_key', { concurrently: true }))).toEqual({
      sql: 'create unique index concurrently "leads_device_id_phone_e164_key" on "public"."leads" ("device_id", lead_dedupe.e164_60_v1("phone"))',
      parameters: [],
    });
    expect(compileSql(createNormalizeFunctionStatement(normalizeFunctionFor('e164', '60')))).toEqual({
      sql: `create function lead_dedupe.e164_60_v1("value" text) returns text
language sql immutable parallel safe
return ${E164_PHONE.replaceAll('"phone"', '"value"')}`,
      parameters: [],
    });
    expect(compileSql(createNormalizeFunctionStatement(normalizeFunctionFor('trim', null), 'probe')).sql).toBe(
      'create function pg_temp.trim_v1("value" text) returns text\nlanguage sql immutable parallel safe\nreturn pg_catalog.btrim("value")',
    );
    // earlier versions indexed the expression itself: still what the inline form (and scan) computes
    expect(compileSql(indexElements(e164Key, 'inline')[1]!).sql).toBe(`(${E164_PHONE})`);
  });

  it('treats NULLs as equal with NULLS NOT DISTINCT', () => {
    const key = fakeKey(table, ['device_id', 'user_id', 'phone', 'niche'], { nullsEqual: true });
    expect(compileSql(createUniqueIndexStatement(key, 'k', { concurrently: true })).sql).toBe(
      'create unique index concurrently "k" on "public"."leads" ("device_id", "user_id", "phone", "niche") nulls not distinct',
    );
  });

  it('quotes reserved words, odd names and schemas as identifiers', () => {
    const odd = fakeTable(['id', 'order', 'x"y'], 'Sales Data', 'Leads');
    const key = fakeKey(odd, ['order', { column: 'x"y', normalize: 'lower' }]);
    expect(compileSql(createUniqueIndexStatement(key, 'Leads_order_key', { concurrently: true })).sql).toBe(
      'create unique index concurrently "Leads_order_key" on "Sales Data"."Leads" ("order", lead_dedupe.lower_v1("x""y"))',
    );
  });
});

describe('the other constraint statements', () => {
  it('attaches the built index as a constraint', () => {
    expect(compileSql(attachConstraintStatement(table, 'leads_device_id_phone_key')).sql).toBe(
      'alter table "public"."leads" add constraint "leads_device_id_phone_key" unique using index "leads_device_id_phone_key"',
    );
  });

  it('sets the lock timeout for the transaction only, as a literal', () => {
    expect(compileSql(setLocalLockTimeoutStatement('5s'))).toEqual({ sql: "set local lock_timeout = '5s'", parameters: [] });
    expect(compileSql(setLocalLockTimeoutStatement("1s'; drop table leads; --")).sql).toBe("set local lock_timeout = '1s''; drop table leads; --'");
  });

  it('drops an index concurrently (or not) and a constraint', () => {
    expect(compileSql(dropIndexStatement('public', 'order', { concurrently: true })).sql).toBe('drop index concurrently if exists "public"."order"');
    expect(compileSql(dropIndexStatement('Sales Data', 'k', { concurrently: false })).sql).toBe('drop index if exists "Sales Data"."k"');
    expect(compileSql(dropConstraintStatement(table, 'order')).sql).toBe('alter table "public"."leads" drop constraint "order"');
  });
});

describe('defaultIndexName', () => {
  it("follows PostgreSQL's naming, with the rule after a normalised column", () => {
    expect(defaultIndexName(devicePhone)).toBe('leads_device_id_phone_key');
    expect(defaultIndexName(e164Key)).toBe('leads_device_id_phone_e164_key');
  });

  it('keeps a long name within 63 bytes, distinct per key', () => {
    const long = fakeTable(['id', 'a_really_long_column_name_number_one', 'a_really_long_column_name_number_two', 'né'], 'public', 'leads_with_a_long_name');
    const one = defaultIndexName(fakeKey(long, ['a_really_long_column_name_number_one', 'a_really_long_column_name_number_two']));
    const two = defaultIndexName(fakeKey(long, ['a_really_long_column_name_number_two', 'a_really_long_column_name_number_one']));
    expect(Buffer.byteLength(one)).toBeLessThanOrEqual(63);
    // 54 bytes of the full name, '_', 8 hex digits of a hash
    expect(one).toMatch(/^leads_with_a_long_name_a_really_long_column_name_numbe_[0-9a-f]{8}$/);
    expect(one).toHaveLength(63);
    expect(one).not.toBe(two);
  });
});

describe('option checks', () => {
  it('parses lock timeouts PostgreSQL accepts and rejects others', () => {
    const parseLockTimeout = (text: string) => pgDuration(parseDuration(text, '--lock-timeout', 1));
    expect(parseLockTimeout('5s')).toBe('5s');
    expect(parseLockTimeout(' 500ms ')).toBe('500ms');
    expect(parseLockTimeout('2000')).toBe('2s');
    expect(parseLockTimeout('1min')).toBe('1min');
    for (const bad of ['0', '5 seconds', '-1s', "1s'"]) expect(() => parseLockTimeout(bad), bad).toThrow(UsageError);
  });

  it('refuses names PostgreSQL would truncate', () => {
    expect(checkIndexName('x'.repeat(63))).toBe('x'.repeat(63));
    expect(() => checkIndexName('x'.repeat(64))).toThrow(/at most 63/);
    expect(() => checkIndexName('é'.repeat(32))).toThrow(/64 bytes/);
  });

  it('needs PostgreSQL 15 for --nulls-equal', () => {
    const key = fakeKey(table, ['phone'], { nullsEqual: true });
    expect(() => checkNullsEqualSupported(key, 140010)).toThrow(/PostgreSQL 15 and later have; this server is 14\.10/);
    expect(() => checkNullsEqualSupported(key, 150004)).not.toThrow();
    expect(() => checkNullsEqualSupported(devicePhone, 120000)).not.toThrow();
  });
});

describe('cleanCommandFor', () => {
  it('repeats the key settings (a dry run) so clean removes what the pre-flight counted', () => {
    expect(cleanCommandFor(devicePhone)).toBe('lead-dedupe clean --key device-phone');
    expect(cleanCommandFor({ ...e164Key, nullsEqual: true })).toBe(
      'lead-dedupe clean --key device-phone --normalize phone=e164 --default-country MY --nulls-equal',
    );
    const odd = fakeTable(['id', 'phone_number'], 'Sales Data', 'Leads');
    const mapped = fakeKey(odd, [{ logical: 'phone', column: 'phone_number' }], { name: 'phone' });
    expect(cleanCommandFor(mapped)).toBe("lead-dedupe clean --key phone --table 'Sales Data.Leads' --map phone=phone_number");
  });

  it('repeats the connection words, and names the table the config file would otherwise change', () => {
    const context = { ...SAME_SHELL, connection: ['-d', 'host=db1 dbname=crm', '--config', 'prod.json'], configured: ['--table', '--id-column'] };
    expect(cleanCommandFor(devicePhone, context)).toBe(
      "lead-dedupe clean -d 'host=db1 dbname=crm' --config prod.json --key device-phone --table public.leads --id-column id",
    );
  });
});

describe('the partitioned-table procedure', () => {
  it('makes the parent index ON ONLY, builds each partition CONCURRENTLY and attaches it', () => {
    const parent = createPartitionIndexStatement(
      devicePhone,
      'leads_device_id_phone_key',
      { schema: 'public', name: 'leads' },
      { only: true, concurrently: false },
    );
    const leaf = createPartitionIndexStatement(
      devicePhone,
      'leads_a_device_id_phone_key',
      { schema: 'public', name: 'leads_a' },
      { only: false, concurrently: true },
    );
    expect(
      [parent, leaf, attachPartitionIndexStatement('public', 'leads_device_id_phone_key', 'public', 'leads_a_device_id_phone_key')].map(
        (q) => compileSql(q).sql,
      ),
    ).toEqual([
      'create unique index "leads_device_id_phone_key" on only "public"."leads" ("device_id", "phone")',
      'create unique index concurrently "leads_a_device_id_phone_key" on "public"."leads_a" ("device_id", "phone")',
      'alter index "public"."leads_device_id_phone_key" attach partition "public"."leads_a_device_id_phone_key"',
    ]);
  });

  it('names a partition index after the partition, like the parent', () => {
    expect(indexNameFor('leads_2026', devicePhone)).toBe('leads_2026_device_id_phone_key');
    expect(indexNameFor('leads_a', e164Key)).toBe('leads_a_device_id_phone_e164_key');
  });
});
