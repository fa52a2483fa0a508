import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { ColumnInfo } from '../../src/db/catalog.js';
import { matchArchivedColumns } from '../../src/clean/restore/restore-columns.js';
import { UsageError } from '../../src/errors.js';
import { archivedColumnsQuery, renamedColumnNames, renamedRow } from '../../src/clean/restore/restore-columns-sql.js';
import { archiveUpgradeStatements, runStatusUpgradeStatement } from '../../src/clean/sql/archive-sql.js';
import { markRestoredStatement } from '../../src/clean/restore/restore-sql.js';
import { compileSql } from '../support/compile.js';

const column = (name: string, generated = false) => ({ name, generated, identity: '', type: 'text' }) as unknown as ColumnInfo;
const all = [column('id'), column('email_address'), column('phone'), column('note'), column('digits', true)];
const table = { name: 'public.leads', all, insertable: all.filter((c) => !c.generated) };
const none = { renames: [], dropColumns: [] };

describe('restore after a schema change', () => {
  it('reads archived names under their new names, and leaves the SQL as it was without a rename', () => {
    expect(compileSql(renamedRow(sql`k.row_data`, [])).sql).toBe('k.row_data');
    expect(compileSql(renamedRow(sql`k.row_data`, [{ from: 'email', to: 'email_address' }]))).toEqual({
      sql: `case when k.row_data is null then null else (select coalesce(jsonb_object_agg(coalesce(ld_rename.to_name, e.key), e.value), '{}'::jsonb)
  from jsonb_each(k.row_data) as e left join (values ($1::text, $2::text)) as ld_rename(from_name, to_name) on ld_rename.from_name = e.key) end`,
      parameters: ['email', 'email_address'],
    });
    expect(compileSql(renamedColumnNames(sql`k.merged_columns`, [{ from: 'email', to: 'email_address' }])).sql).toBe(
      'array(select coalesce(ld_rename.to_name, x.name) from unnest(k.merged_columns) as x(name) left join (values ($1::text, $2::text)) as ld_rename(from_name, to_name) on ld_rename.from_name = x.name)',
    );
    expect(compileSql(archivedColumnsQuery('lead_dedupe', 7))).toEqual({
      sql: `select distinct e.name
from (select row_data from "lead_dedupe"."lead_dedupe_removed" where run_id = $1
      union all select row_data from "lead_dedupe"."lead_dedupe_keepers" where run_id = $2) as a
cross join lateral jsonb_object_keys(a.row_data) as e(name)
order by 1`,
      parameters: [7, 7],
    });
  });

  it('refuses a column the table lost unless it is mapped or dropped; a new column is left to its default', () => {
    const archived = ['digits', 'email', 'id', 'phone'];
    expect(() => matchArchivedColumns(archived, table, none, 7)).toThrow(UsageError);
    expect(() => matchArchivedColumns(archived, table, none, 7)).toThrow(
      'run 7 archived a column public.leads no longer has: email; nothing was changed. Map each to the column that holds it now (--map email=<column>) or restore without its values (--drop-column email)',
    );
    const mapped = matchArchivedColumns(archived, table, { renames: [{ from: 'email', to: 'email_address' }], dropColumns: [] }, 7);
    expect({ ...mapped, columns: mapped.columns.map((c) => c.name) }).toEqual({
      renames: [{ from: 'email', to: 'email_address' }],
      dropped: [],
      added: ['note'],
      columns: ['id', 'email_address', 'phone'],
    });
    const dropped = matchArchivedColumns(archived, table, { renames: [], dropColumns: ['email'] }, 7);
    expect({ dropped: dropped.dropped, added: dropped.added }).toEqual({ dropped: ['email'], added: ['email_address', 'note'] });
  });

  it('refuses a map or drop that names nothing, a generated target, and two archived columns into one', () => {
    const archived = ['email', 'id', 'phone'];
    const map = (from: string, to: string) => ({ renames: [{ from, to }], dropColumns: [] });
    expect(() => matchArchivedColumns(archived, table, map('mail', 'email_address'), 7)).toThrow('--map mail=email_address: run 7 archived no column mail');
    expect(() => matchArchivedColumns(archived, table, map('email', 'nope'), 7)).toThrow('public.leads has no column nope');
    expect(() => matchArchivedColumns(archived, table, map('email', 'digits'), 7)).toThrow('generated column');
    expect(() => matchArchivedColumns(archived, table, map('email', 'phone'), 7)).toThrow('archived both email and phone');
    expect(() => matchArchivedColumns(archived, table, { renames: [], dropColumns: ['nope'] }, 7)).toThrow('--drop-column nope: run 7 archived no column');
  });

  it('marks a run restored, or restored with conflicts with how to finish it; an older archive gets the status first', () => {
    expect(compileSql(markRestoredStatement('lead_dedupe', 7))).toEqual({
      sql: 'update "lead_dedupe"."lead_dedupe_runs" set status = $1, restored_at = clock_timestamp(), finished_at = coalesce(finished_at, clock_timestamp()) where id = $2',
      parameters: ['restored', 7],
    });
    expect(compileSql(markRestoredStatement('lead_dedupe', 7, 'restored with conflicts', 'see --force')).parameters).toEqual([
      'restored with conflicts',
      'see --force',
      7,
    ]);
    expect(compileSql(runStatusUpgradeStatement('lead_dedupe')).sql).toBe(
      `alter table "lead_dedupe"."lead_dedupe_runs" drop constraint if exists lead_dedupe_runs_status_check,
  add constraint lead_dedupe_runs_status_check check (status in ('running', 'done', 'failed', 'restored', 'interrupted', 'restored with conflicts'))`,
    );
    const upToDate = { runs_up_to_date: true, keepers_up_to_date: true };
    expect(archiveUpgradeStatements('lead_dedupe', upToDate)).toHaveLength(0);
    expect(archiveUpgradeStatements('lead_dedupe', { ...upToDate, statuses_up_to_date: false }).map((s) => compileSql(s).sql)).toEqual([
      compileSql(runStatusUpgradeStatement('lead_dedupe')).sql,
    ]);
  });
});
