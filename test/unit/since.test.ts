import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/cli/parse/duration.js';
import { parseIsoTimestamp, parseSince } from '../../src/cli/parse/since.js';
import { resolveSinceSettings } from '../../src/cli/since-flags.js';
import { windowStart } from '../../src/scan/since/scan-since.js';
import { watermarkKeyOf } from '../../src/scan/since/watermark-key.js';
import { UsageError } from '../../src/errors.js';
import { createKeyIndexStatement, defaultKeyIndexName } from '../../src/sql/constraint-plan.js';
import { incrementalKeyScanQuery, type IncrementalWindow } from '../../src/scan/sql/since-sql.js';
import { writeWatermarksStatement } from '../../src/scan/sql/watermark-sql.js';
import { compileSql, fakeDistributedTable, fakeKey, fakeTable } from '../support/compile.js';
import { digitsSql } from '../support/normalized-sql.js';
import { normalizeFunctionBody, normalizeFunctionFor } from '../../src/keys/normalize-function.js';

const table = fakeTable(['id', 'device_id', 'phone', 'created_at', 'updated_at']);
const typed = (flag: string) => flag;

describe('--since: one grammar for timestamps, durations and last', () => {
  it('reads durations with the shared parser, days included', () => {
    expect(parseSince('15m', '--since', 0)).toEqual({ kind: 'ago', ms: 900_000 });
    expect(parseSince('2h', '--since', 0)).toEqual({ kind: 'ago', ms: 7_200_000 });
    expect(parseSince('7d', '--since', 0)).toEqual({ kind: 'ago', ms: 604_800_000 });
    expect(parseDuration('1d', '--lock-timeout', 1)).toBe(86_400_000);
    expect(parseSince('LAST', '--since', 300_000)).toEqual({ kind: 'last', overlapMs: 300_000 });
  });

  it('reads ISO timestamps, UTC unless they carry an offset, and checks the calendar', () => {
    expect(parseIsoTimestamp('2026-11-28')!.toISOString()).toBe('2026-11-28T00:00:00.000Z');
    expect(parseIsoTimestamp('2026-11-28T09:30')!.toISOString()).toBe('2026-11-28T09:30:00.000Z');
    expect(parseIsoTimestamp('2026-11-28 09:30:15.25Z')!.toISOString()).toBe('2026-11-28T09:30:15.250Z');
    expect(parseIsoTimestamp('2026-11-28T09:30:00+08:00')!.toISOString()).toBe('2026-11-28T01:30:00.000Z');
    expect(parseIsoTimestamp('2026-11-28T09:30:00-0530')!.toISOString()).toBe('2026-11-28T15:00:00.000Z');
    for (const bad of ['2026-02-30', '2026-13-01', '2026-11-28T24:00', '28/11/2026', 'yesterday', '2026-11-28T09']) {
      expect(parseIsoTimestamp(bad), bad).toBeNull();
    }
  });

  it('refuses what would be a mistake, in one line naming the flag', () => {
    expect(() => parseSince('yesterday', '--since', 0)).toThrow(
      '--since takes an ISO timestamp (2026-11-28T09:30:00Z), a duration back from now (15m, 2h, 7d) or last; got "yesterday"',
    );
    expect(() => parseSince('0m', '--since', 0)).toThrow(UsageError);
    expect(() => parseSince('2026', '--since', 0)).toThrow('--since needs a unit for a duration (15m, 2h, 7d) or a full ISO date (2026-11-28); got "2026"');
    expect(() => parseSince('36501d', '--since', 0)).toThrow('--since takes a duration from 1ms to 36500d');
  });

  it('--overlap: 0 to 1 day, default 5m; flags that need --since (or --since last) refuse to run without it', () => {
    expect(resolveSinceSettings({ since: 'last' }, typed, 'lead_dedupe')!.since).toEqual({ kind: 'last', overlapMs: 300_000 });
    expect(resolveSinceSettings({ since: 'last', overlap: '0' }, typed, 'lead_dedupe')!.since).toEqual({ kind: 'last', overlapMs: 0 });
    expect(() => resolveSinceSettings({ since: 'last', overlap: '-5m' }, typed, 'x')).toThrow('--overlap takes a duration from 0ms to 1d');
    expect(() => resolveSinceSettings({ since: 'last', overlap: '2d' }, typed, 'x')).toThrow(UsageError);
    expect(() => resolveSinceSettings({ overlap: '5m' }, typed, 'x')).toThrow('--overlap only works with --since');
    expect(() => resolveSinceSettings({ strict: true }, typed, 'x')).toThrow('--strict only works with --since');
    expect(resolveSinceSettings({ since: '2h', strict: true }, typed, 'x')!.strict).toBe(true);
    expect(() => resolveSinceSettings({ since: '1h', stateFile: 'w.json' }, typed, 'x')).toThrow('--state-file only works with --since last');
    // a config file may set them for the runs that use --since: not an error when --since is absent
    expect(resolveSinceSettings({ overlap: '5m' }, () => 'config "commands.scan.overlap"', 'x')).toBeNull();
  });

  it('the window starts at the time given, now minus the duration, or the watermark minus the overlap (null: none yet)', () => {
    const key = fakeKey(table, ['device_id', 'phone']);
    const until = new Date('2026-11-28T12:00:00Z');
    expect(windowStart({ since: { kind: 'ago', ms: 3_600_000 }, windowColumns: ['created_at'] }, key, until)!.toISOString()).toBe('2026-11-28T11:00:00.000Z');
    const last = { kind: 'last', overlapMs: 300_000 } as const;
    expect(windowStart({ since: last, windowColumns: ['created_at'], watermarks: new Map() }, key, until)).toBeNull();
    const id = JSON.stringify([watermarkKeyOf(key, 'created_at').table, watermarkKeyOf(key, 'created_at').definition]);
    const watermarks = new Map([[id, { watermark: new Date('2026-11-28T11:55:00Z'), wallMarks: {}, reported: [] }]]);
    expect(windowStart({ since: last, windowColumns: ['created_at'], watermarks }, key, until)!.toISOString()).toBe('2026-11-28T11:50:00.000Z');
    // another window column is another watermark (--changed-column adds its column last: it names the watermark)
    expect(windowStart({ since: last, windowColumns: ['created_at', 'updated_at'], watermarks }, key, until)).toBeNull();
  });
});

describe('watermark identity', () => {
  it('is the table and the key definition: columns, normalisation with its country, NULL handling, window column', () => {
    const plain = watermarkKeyOf(fakeKey(table, ['device_id', 'phone']), 'created_at');
    expect(plain).toEqual({
      table: 'public.leads',
      keyName: 'test-key',
      definition: '{"columns":["device_id","phone"],"normalize":{},"defaultCountry":null,"nullsEqual":false,"windowColumn":"created_at"}',
    });
    const e164 = fakeKey(table, ['device_id', { column: 'phone', normalize: 'e164' }], { callingCode: '60', defaultCountry: 'MY' });
    expect(watermarkKeyOf(e164, 'created_at').definition).toBe(
      '{"columns":["device_id","phone"],"normalize":{"phone":"e164"},"defaultCountry":"MY","nullsEqual":false,"windowColumn":"created_at"}',
    );
    expect(watermarkKeyOf(fakeKey(table, ['device_id', 'phone'], { nullsEqual: true }), 'created_at').definition).not.toBe(plain.definition);
  });

  it('is written with one upsert (with its details when the table has the column)', () => {
    const { sql: withDetails, parameters: detailParameters } = compileSql(
      writeWatermarksStatement('lead_dedupe', [
        { table: 'public.leads', definition: '{}', keyName: 'k', watermark: new Date('2026-11-28T12:00:00Z'), details: '{"reported":["7"]}' },
      ]),
    );
    expect(withDetails).toBe(`insert into "lead_dedupe"."lead_dedupe_watermarks" (table_name, key_definition, key_name, watermark, "details")
values ($1, $2, $3, $4::timestamptz, $5)
on conflict (table_name, key_definition) do update
set key_name = excluded.key_name, watermark = excluded.watermark, updated_at = clock_timestamp(), "details" = excluded."details"`);
    expect(detailParameters).toEqual(['public.leads', '{}', 'k', '2026-11-28T12:00:00.000Z', '{"reported":["7"]}']);
    const { sql, parameters } = compileSql(
      writeWatermarksStatement('lead_dedupe', [
        { table: 'public.leads', definition: '{}', keyName: 'k', watermark: new Date('2026-11-28T12:00:00Z'), details: null },
      ]),
    );
    expect(sql).toBe(`insert into "lead_dedupe"."lead_dedupe_watermarks" (table_name, key_definition, key_name, watermark)
values ($1, $2, $3, $4::timestamptz)
on conflict (table_name, key_definition) do update
set key_name = excluded.key_name, watermark = excluded.watermark, updated_at = clock_timestamp()`);
    expect(parameters).toEqual(['public.leads', '{}', 'k', '2026-11-28T12:00:00.000Z']);
  });
});

/** A window from `at` on `column`, with the created column's NULLs in it, as --since <time> builds it. */
function windowFrom(column: string, at: Date, extra: Partial<IncrementalWindow> = {}): IncrementalWindow {
  return {
    bounds: [{ column, at, wallTime: false }],
    undatedColumn: 'created_at',
    future: [{ column, at: new Date('2026-12-01T00:00:00Z'), wallTime: false }],
    reported: [],
    remember: null,
    rememberLimit: 10,
    ...extra,
  };
}

describe('incrementalKeyScanQuery', () => {
  it("windows, looks up the rows sharing a window row's key with = on the key expressions, ranks oldest first", () => {
    const { sql, parameters } = compileSql(
      incrementalKeyScanQuery(fakeKey(table, ['device_id', 'phone']), windowFrom('created_at', new Date('2026-11-28T00:00:00Z')), 3),
    );
    expect(parameters).toEqual(['2026-12-01T00:00:00.000Z', '2026-11-28T00:00:00.000Z', '2026-11-28T00:00:00.000Z', [], '2026-11-28T00:00:00.000Z']);
    expect(sql).toContain(`with win as materialized (
  select "l"."created_at" is null as ld_undated, ("l"."created_at" > $1::timestamptz) as ld_future
  from "public"."leads" as l
  where (("l"."created_at" >= $2::timestamptz) or "l"."created_at" is null)
), members as (`);
    expect(sql).toContain(`row_number() over (partition by "l"."device_id", "l"."phone" order by "l"."created_at" asc nulls last, "l"."id" asc) as ld_rank`);
    // EXISTS, not a join: the join hashed the whole table (B23); over the table, not a CTE: the planner sees how many keys the window holds (B31)
    expect(sql).toContain(
      `from "public"."leads" as l\n  where exists (select from "public"."leads" as w where (("w"."created_at" >= $5::timestamptz) or "w"."created_at" is null) and "l"."device_id" = "w"."device_id" and "l"."phone" = "w"."phone")`,
    );
    expect(sql).toContain('count(*) filter (where ld_new and ld_rank > 1 and not ld_reported) as new_surplus');
    expect(sql).toContain('coalesce("l"."id"::text = any($4::text[]), false) as ld_reported');
  });

  it('--changed-column adds its bound to the created one; a zoneless mark compares as UTC wall time; the next window is remembered', () => {
    const at = new Date('2026-11-28T00:00:00Z');
    const window = windowFrom('created_at', at, {
      bounds: [
        { column: 'created_at', at, wallTime: false },
        { column: 'created_at', at, wallTime: true },
        { column: 'updated_at', at, wallTime: false },
      ],
      reported: ['7', '9'],
      remember: [{ column: 'created_at', at, wallTime: false }],
    });
    const { sql, parameters } = compileSql(incrementalKeyScanQuery(fakeKey(table, ['phone']), window, 3));
    expect(sql).toContain(
      `where (("l"."created_at" >= $2::timestamptz or "l"."created_at" >= ($3::timestamptz at time zone 'UTC') or "l"."updated_at" >= $4::timestamptz) or "l"."created_at" is null)`,
    );
    expect(sql).toContain(`coalesce((("l"."created_at" >= $9::timestamptz) or "l"."created_at" is null), false) as ld_remember`);
    expect(sql).toContain('array_agg(ld_id::text) filter (where ld_new and ld_rank > 1 and ld_remember) as remember_ids');
    expect(sql).toContain('(select array_agg(id) from (select unnest(remember_ids) as id from groups limit 11) as remembered) as remember_ids');
    expect(parameters).toContain(window.reported);
  });

  it('a normalised key is looked up by the same expression the index and the constraint are built on', () => {
    const key = fakeKey(table, ['device_id', { column: 'phone', normalize: 'digits' }]);
    const { sql } = compileSql(incrementalKeyScanQuery(key, windowFrom('updated_at', new Date(0)), 3));
    // the index calls lead_dedupe.digits_v1("phone"), whose body is this expression (PostgreSQL inlines it, so the index serves the lookup)
    const index = compileSql(createKeyIndexStatement(key, defaultKeyIndexName(key), { concurrently: true })).sql;
    expect(index).toContain('("device_id", lead_dedupe.digits_v1("phone"))');
    expect(compileSql(normalizeFunctionBody(normalizeFunctionFor('digits', null))).sql).toBe(digitsSql('"value"'));
    expect(sql).toContain(`${digitsSql('"l"."phone"')} = ${digitsSql('"w"."phone"')}`);
    expect(sql).toContain(`where (("l"."updated_at" >= $2::timestamptz) or "l"."created_at" is null)`);
  });

  it('on a Citus distributed table the window keys are a CTE (Citus refuses a correlated EXISTS between two of its scans)', () => {
    const citusTable = fakeDistributedTable(table, 'device_id');
    const { sql } = compileSql(incrementalKeyScanQuery(fakeKey(citusTable, ['device_id', 'phone']), windowFrom('created_at', new Date(0)), 3));
    expect(sql).toContain(`select "l"."device_id" as "ld_k1", "l"."phone" as "ld_k2", "l"."created_at" is null as ld_undated`);
    expect(sql).toContain(`), touched as materialized (\n  select distinct "ld_k1", "ld_k2" from win\n), members as (`);
    expect(sql).toContain(`where exists (select from touched as t where "l"."device_id" = "t"."ld_k1" and "l"."phone" = "t"."ld_k2")`);
  });

  it('NULLs equal: keys with NULLs are kept and compared as JSON arrays', () => {
    const { sql } = compileSql(incrementalKeyScanQuery(fakeKey(table, ['phone'], { nullsEqual: true }), windowFrom('created_at', new Date(0)), 3));
    expect(sql).toContain(`and jsonb_build_array("l"."phone") = jsonb_build_array("w"."phone"))`);
  });
});

describe('index add', () => {
  it('builds a plain index CONCURRENTLY on the key expressions, named like PostgreSQL would', () => {
    const key = fakeKey(table, ['device_id', 'phone']);
    expect(defaultKeyIndexName(key)).toBe('leads_device_id_phone_idx');
    expect(compileSql(createKeyIndexStatement(key, 'leads_device_id_phone_idx', { concurrently: true })).sql).toBe(
      'create index concurrently "leads_device_id_phone_idx" on "public"."leads" ("device_id", "phone")',
    );
    expect(compileSql(createKeyIndexStatement(key, 'i', { concurrently: false })).sql).toBe('create index "i" on "public"."leads" ("device_id", "phone")');
  });
});
