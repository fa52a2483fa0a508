import type { KeySettings } from '../../src/keys/resolve-key.js';
import type { KeyReport } from '../../src/scan/scan-report.js';
import type { TestDatabase } from './test-database.js';

/**
 * scan --since against hand-written SQL: the oracle ranks every row of the
 * table with a window function over the whole table (no window first, no
 * lookup), then counts what the window holds.
 */
export const T0 = '2026-01-01T00:00:00Z';
export const day = (n: number) => `'${T0}'::timestamptz + interval '${n} days'`;
export const SINCE = new Date(Date.parse(T0) + 10 * 86_400_000);

export interface Figures {
  newRows: number;
  newSurplus: number;
  groupsTouched: number;
  rowsInGroups: number;
  largestGroup: number;
}

/** The same figures from SQL written by hand. `expressions` are the key's (normalised) values; `nullsEqual` keeps NULL keys in. */
export async function sinceOracle(test: TestDatabase, expressions: string[], windowColumn: string, nullsEqual: boolean): Promise<Figures> {
  const keys = expressions.map((e, i) => `${e} as k${i}`).join(', ');
  const partition = expressions.map((_, i) => `k${i}`).join(', ');
  const notNull = nullsEqual ? 'true' : expressions.map((_, i) => `k${i} is not null`).join(' and ');
  const since = `'${SINCE.toISOString()}'::timestamptz`;
  // The window: created in it, or no created time at all (no window can place such a row), or changed in it (--changed-column adds).
  const inWindow = `(created_at >= ${since} or created_at is null or ${windowColumn} >= ${since})`;
  const [row] = await test.query<Record<string, string>>(`
    with keyed as (select id, created_at, coalesce(${inWindow}, false) as w, ${keys} from watch),
    ranked as (
      select *, row_number() over (partition by ${partition} order by created_at asc nulls last, id) as rank,
                count(*) over (partition by ${partition}) as n
      from keyed where ${notNull}
    ),
    touched as (select distinct ${partition}, n from ranked where w and n > 1)
    select (select count(*) from watch where ${inWindow}) as new_rows,
           (select count(*) from ranked where w and rank > 1) as new_surplus,
           (select count(*) from touched) as groups_touched,
           (select coalesce(sum(n), 0) from touched) as rows_in_groups,
           (select coalesce(max(n), 0) from touched) as largest`);
  return {
    newRows: Number(row!.new_rows),
    newSurplus: Number(row!.new_surplus),
    groupsTouched: Number(row!.groups_touched),
    rowsInGroups: Number(row!.rows_in_groups),
    largestGroup: Number(row!.largest),
  };
}

/** The table the --since oracle reads: groups old and new, NULL created times and keys, a changed column. */
export const WATCH_TABLE = `create table watch (id int primary key, device_id int, phone text, created_at timestamptz, updated_at timestamptz);
      insert into watch values
        (1, 1, '111', ${day(1)}, null), (2, 1, '111', ${day(11)}, null),
        (3, 2, '222', ${day(11)}, null), (4, 2, '222', ${day(12)}, null), (5, 2, '222', ${day(12)}, null),
        (6, 3, '333', null, null), (7, 3, '333', ${day(11)}, null),
        (8, 4, null, ${day(1)}, null), (9, 4, null, ${day(11)}, null), (10, 4, null, ${day(12)}, null),
        (11, 5, '0123-456', ${day(1)}, null), (12, 5, '0123456', ${day(11)}, null),
        (13, 6, '666', ${day(1)}, null), (14, 6, '666', ${day(2)}, null),
        (15, 7, '777', ${day(11)}, null),
        (16, 8, '888', ${day(1)}, null), (17, 8, '888', ${day(2)}, ${day(11)}),
        (18, 9, '999', ${day(1)}, ${day(11)}), (19, 9, '999', ${day(2)}, null),
        (20, null, '111', ${day(13)}, ${day(13)}), (21, null, '111', ${day(1)}, null)`;

/** A key's figures from a scan --since report, in the oracle's shape. */
export function sinceFigures(key: KeyReport) {
  return { newRows: key.newRows, newSurplus: key.newSurplus, groupsTouched: key.groupsTouched, rowsInGroups: key.rowsInGroups, largestGroup: key.largestGroup };
}

const digits = `nullif(regexp_replace(phone, '[^0-9]', '', 'g'), '')`;

/** The key forms held to the oracle: the settings, the oracle's expressions for them, and whether NULLs are equal. */
export const SINCE_KEY_CASES: { label: string; settings: Partial<KeySettings>; expressions: string[]; nullsEqual: boolean }[] = [
  { label: 'plain key, NULLs distinct', settings: {}, expressions: ['device_id', 'phone'], nullsEqual: false },
  { label: 'plain key, NULLs equal', settings: { nullsEqual: true }, expressions: ['device_id', 'phone'], nullsEqual: true },
  { label: 'phone=digits', settings: { normalize: { phone: 'digits' } }, expressions: ['device_id', digits], nullsEqual: false },
  { label: 'phone=digits, NULLs equal', settings: { normalize: { phone: 'digits' }, nullsEqual: true }, expressions: ['device_id', digits], nullsEqual: true },
];
