import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { UpsertClient } from '../../src/core/client/upsert-client.js';
import { renderGoClient } from '../../src/render/sql-upsert/go-client.js';
import { renderGoTest } from '../../src/render/sql-upsert/go-test.js';
import { renderTsClient } from '../../src/render/sql-upsert/ts-client.js';
import { goFieldNames, goString, goType } from '../../src/render/sql-upsert/go-types.js';
import { checkLeadStatement, createScratchStatement, dropScratchStatement, insertLeadStatement, templateLeadStatement } from '../../src/sql/race-plan.js';
import { leadCountStatement, leadDeleteStatement } from '../../src/sql/upsert-client-plan.js';
import { compileSql, fakeKey, fakeTable } from '../support/compile.js';

const table = fakeTable(['id', 'device_id', 'user_id', 'phone', 'niche', 'name', 'created_at']);

/** The webhook's key, skip policy; the statement is written by hand to the upsert contract (one row: id, outcome). */
const CLIENT: UpsertClient = {
  table: 'public.leads',
  keyName: 'device-user-phone-niche',
  policy: 'skip',
  statement: `insert into "public"."leads" ("device_id", "user_id", "phone", "niche", "name")
values ($1, $2, $3, $4, $5)
on conflict ("device_id", "user_id", "phone", "niche") do nothing
returning "id", 'inserted' as outcome`,
  parameters: [
    { column: 'device_id', pgType: 'integer', nullable: false, inKey: true },
    { column: 'user_id', pgType: 'integer', nullable: false, inKey: true },
    { column: 'phone', pgType: 'text', nullable: true, inKey: true },
    { column: 'niche', pgType: 'text', nullable: true, inKey: true },
    { column: 'name', pgType: 'text', nullable: true, inKey: false },
  ],
  idType: 'bigint',
  retryUniqueViolation: false,
  countStatement: 'select count(*) from "public"."leads" where "device_id" = $1 and "user_id" = $2 and "phone" = $3 and "niche" = $4',
  deleteStatement: 'delete from "public"."leads" where "id" = $1',
  keyParameters: [0, 1, 2, 3],
  generatedBy: 'lead-dedupe sql upsert --key device-user-phone-niche --on-duplicate skip --client go --go-driver pgx-v5',
};

describe('Go client generation', () => {
  it('pgx v5, skip: the exact file (reviewed by hand: test/unit/golden/upsert-pgx-v5.go)', () => {
    expect(renderGoClient(CLIENT, { driver: 'pgx-v5', packageName: 'leads' })).toBe(readFileSync(new URL('golden/upsert-pgx-v5.go', import.meta.url), 'utf8'));
  });

  it('database/sql: no driver import; the error code through SQLState(), which lib/pq and pgx both have', () => {
    const text = renderGoClient(CLIENT, { driver: 'lib-pq', packageName: 'leads' });
    expect(text).not.toContain('github.com/');
    expect(text).toContain('\tvar pgErr interface{ SQLState() string }\n');
    expect(text).toContain('\terr := db.QueryRowContext(ctx, UpsertLeadSQL, lead.args()...).Scan(&result.ID, &outcome)\n\tif errors.Is(err, sql.ErrNoRows) {');
  });

  it('pgx v4 imports pgconn from its own module, v5 from inside pgx', () => {
    expect(renderGoClient(CLIENT, { driver: 'pgx-v4', packageName: 'leads' })).toContain('\t"github.com/jackc/pgconn"\n\t"github.com/jackc/pgx/v4"\n');
    expect(renderGoClient(CLIENT, { driver: 'pgx-v5', packageName: 'leads' })).toContain('\t"github.com/jackc/pgx/v5"\n\t"github.com/jackc/pgx/v5/pgconn"\n');
  });

  it('retries 23505 only when the policy opted in', () => {
    expect(renderGoClient(CLIENT, { driver: 'pgx-v5', packageName: 'leads' })).toContain('\tcase "40001", "40P01":\n');
    expect(renderGoClient({ ...CLIENT, retryUniqueViolation: true }, { driver: 'pgx-v5', packageName: 'leads' })).toContain(
      '\tcase "40001", "40P01", "23505":\n',
    );
  });

  it('the race test imports the chosen database/sql driver, or pgxpool of the pgx version', () => {
    expect(renderGoTest(CLIENT, { driver: 'lib-pq', packageName: 'leads' })).toContain('\t_ "github.com/lib/pq"\n');
    expect(renderGoTest(CLIENT, { driver: 'lib-pq', packageName: 'leads' })).toContain('sql.Open("postgres", dsn)');
    expect(renderGoTest(CLIENT, { driver: 'pgx-v4-stdlib', packageName: 'leads' })).toContain('sql.Open("pgx", dsn)');
    expect(renderGoTest(CLIENT, { driver: 'pgx-v4', packageName: 'leads' })).toContain('pgxpool.ConnectConfig(ctx, config)');
    expect(renderGoTest(CLIENT, { driver: 'pgx-v5', packageName: 'leads' })).toContain('pgxpool.NewWithConfig(ctx, config)');
  });

  it('field names, types and string literals', () => {
    expect(goFieldNames(['device_id', 'created_at', '2fa code', 'name', 'Name', 'utm_source'])).toEqual([
      'DeviceID',
      'CreatedAt',
      'C2faCode',
      'Name',
      'Name2',
      'UTMSource',
    ]);
    expect(
      ['smallint', 'integer', 'bigint', 'numeric(12,2)', 'timestamp with time zone', 'date', 'boolean', 'bytea', 'uuid', 'character varying(32)'].map(
        (t) => goType(t).type,
      ),
    ).toEqual(['int16', 'int32', 'int64', 'string', 'time.Time', 'time.Time', 'bool', '[]byte', 'string', 'string']);
    expect(goString('select "a`b"')).toBe('"select \\"a`b\\""');
    expect(goString('select 1')).toBe('`select 1`');
  });
});

describe('TypeScript client generation', () => {
  it('typed fields (nullable as | null, odd names quoted), the statement in a template literal with ` and ${ escaped', () => {
    const text = renderTsClient({
      ...CLIENT,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: SQL text that holds ${ on purpose
      statement: 'select "a`b", \'${x}\'',
      parameters: [...CLIENT.parameters, { column: 'created at', pgType: 'timestamp with time zone', nullable: false, inKey: false }],
    });
    expect(text).toContain('  device_id: number;\n  user_id: number;\n  phone: string | null;\n');
    expect(text).toContain('  "created at": Date;\n');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the escaped ${ the generator must write
    expect(text).toContain('export const UPSERT_LEAD_SQL = `select "a\\`b", \'\\${x}\'`;');
    expect(text).toContain('values: [lead.device_id, lead.user_id, lead.phone, lead.niche, lead.name, lead["created at"]]');
    expect(text).toContain("const RETRYABLE = new Set(['40001', '40P01']);");
  });
});

describe('client and race statements', () => {
  const key = fakeKey(table, ['device_id', 'phone']);
  const scratch = { schema: 'lead_dedupe', name: 'race_0a1b2c3d' };

  it('the race test counts by the key columns and deletes by id', () => {
    expect(compileSql(leadCountStatement(key)).sql).toBe('select count(*) from "public"."leads" where "device_id" = $1 and "phone" = $2');
    expect(compileSql(leadDeleteStatement(key)).sql).toBe('delete from "public"."leads" where "id" = $1');
  });

  it('race: the scratch copy, the template lead, the check and the insert (values as parameters)', () => {
    expect(compileSql(createScratchStatement(scratch, table)).sql).toBe('create table "lead_dedupe"."race_0a1b2c3d" (like "public"."leads" including all)');
    expect(compileSql(templateLeadStatement(table, ['device_id', 'phone', 'name'], ['device_id', 'phone'])).sql).toBe(
      'select "device_id", "phone", "name" from "public"."leads" where "device_id" is not null and "phone" is not null order by "id" limit 1',
    );
    expect(compileSql(checkLeadStatement(scratch, 'id', ['device_id', 'phone'], [7, '60123']))).toEqual({
      sql: 'select "id" from "lead_dedupe"."race_0a1b2c3d" where "device_id" = $1 and "phone" = $2 limit 1',
      parameters: [7, '60123'],
    });
    expect(compileSql(insertLeadStatement(scratch, 'id', ['device_id', 'phone'], [7, '60123']))).toEqual({
      sql: 'insert into "lead_dedupe"."race_0a1b2c3d" ("device_id", "phone") values ($1, $2) returning "id"',
      parameters: [7, '60123'],
    });
    expect(compileSql(dropScratchStatement(scratch)).sql).toBe('drop table if exists "lead_dedupe"."race_0a1b2c3d"');
  });
});
