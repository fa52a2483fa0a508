import type { TestDatabase } from './test-database.js';

/**
 * An independent diagnosis, written by hand without window functions: for
 * every row of a duplicate group, correlated subqueries find the row just
 * before it and the oldest row of its group (created ascending, missing
 * times last, then id), and JavaScript tallies the results. Slow (quadratic)
 * and only meant for small fixtures.
 */
export interface OracleKey {
  /** SQL expressions of the key over the fixture table `c`, e.g. `c.dev`, `nullif(regexp_replace(c.phone_number, ...))`. */
  expressions: string[];
  nullsEqual: boolean;
}

export interface DiagnoseOracle {
  groups: number;
  surplus: number;
  gaps: number[];
  gapsUnknown: number;
  cause: { race: number; retry: number; resubmission: number; unknown: number };
  differ: Record<string, { groups: number; rows: number; only: number }>;
  fill: Record<string, { groups: number; rows: number }>;
  duplicatesPerDay: Record<string, number>;
  last24h: number;
  last7d: number;
  last24hBeforeNow: number;
  last7dBeforeNow: number;
  bySurplus: Record<string, number>;
}

const BOUNDS = [100, 1000, 10_000, 60_000, 600_000, 3_600_000, 86_400_000];

/** `table` is a table name or a parenthesised subquery; it must have id and created columns. */
export async function diagnoseOracle(
  test: TestDatabase,
  table: string,
  key: OracleKey,
  compared: string[],
  windows: { race: number; retry: number },
  byColumn: string,
): Promise<DiagnoseOracle> {
  const keyed = key.expressions.map((e, i) => `${e} as k${i}`).join(', ');
  const grouped = key.nullsEqual ? 'true' : key.expressions.map((e) => `${e} is not null`).join(' and ');
  const same = (a: string, b: string) => key.expressions.map((_, i) => `${a}.k${i} is not distinct from ${b}.k${i}`).join(' and ');
  const before = (p: string, x: string) =>
    `(case when ${x}.created is null then ${p}.created is not null or ${p}.id < ${x}.id
          else ${p}.created < ${x}.created or (${p}.created = ${x}.created and ${p}.id < ${x}.id) end)`;
  const rows = await test.query<Record<string, unknown>>(`
    with m as (select c.*, ${keyed} from ${table} as c where ${grouped}),
    member as (select m.* from m where (select count(*) from m as o where ${same('o', 'm')}) > 1),
    d as (
      select x.*,
             (select p.id from member as p where ${same('p', 'x')} and ${before('p', 'x')}
              order by p.created desc nulls first, p.id desc limit 1) as prev_id,
             (select o.id from member as o where ${same('o', 'x')} order by o.created asc nulls last, o.id asc limit 1) as oldest_id
      from member as x
    )
    select d.id, to_json(array[${key.expressions.map((_, i) => `d.k${i}::text`).join(', ')}])::text as grp,
           extract(epoch from d.created - p.created) * 1000 as gap_ms,
           to_char(d.created at time zone 'UTC', 'YYYY-MM-DD') as day,
           d.created > (select max(created) from ${table} as t) - interval '24 hours' as in24h,
           d.created > (select max(created) from ${table} as t) - interval '7 days' as in7d,
           d.created > now() - interval '24 hours' as in24h_now,
           d.created > now() - interval '7 days' as in7d_now,
           d.${byColumn}::text as by_value,
           ${compared.map((c) => `d.${c}::text is distinct from o.${c}::text as "differ_${c}", nullif(btrim(o.${c}::text), '') is null and nullif(btrim(d.${c}::text), '') is not null as "fill_${c}"`).join(',\n           ')}
    from d join member as p on p.id = d.prev_id join member as o on o.id = d.oldest_id
    where d.prev_id is not null`);
  const [groupCount] = await test.query<{ n: string }>(`
    select count(*) as n from (select ${keyed} from ${table} as c where ${grouped} group by ${key.expressions.map((_, i) => i + 1).join(', ')} having count(*) > 1) as g`);
  const oracle: DiagnoseOracle = {
    groups: Number(groupCount!.n),
    surplus: rows.length,
    gaps: Array(BOUNDS.length + 1).fill(0),
    gapsUnknown: 0,
    cause: { race: 0, retry: 0, resubmission: 0, unknown: 0 },
    differ: {},
    fill: {},
    duplicatesPerDay: {},
    last24h: 0,
    last7d: 0,
    last24hBeforeNow: 0,
    last7dBeforeNow: 0,
    bySurplus: {},
  };
  for (const row of rows) {
    const gap = row.gap_ms === null ? null : Number(row.gap_ms);
    if (gap === null) {
      oracle.gapsUnknown++;
      oracle.cause.unknown++;
    } else {
      const bucket = BOUNDS.findIndex((bound) => gap <= bound);
      oracle.gaps[bucket === -1 ? BOUNDS.length : bucket]! += 1;
      oracle.cause[gap <= windows.race ? 'race' : gap <= windows.retry ? 'retry' : 'resubmission']++;
    }
    if (row.day !== null) oracle.duplicatesPerDay[row.day as string] = (oracle.duplicatesPerDay[row.day as string] ?? 0) + 1;
    if (row.in24h === true) oracle.last24h++;
    if (row.in7d === true) oracle.last7d++;
    if (row.in24h_now === true) oracle.last24hBeforeNow++;
    if (row.in7d_now === true) oracle.last7dBeforeNow++;
    const by = String(row.by_value);
    oracle.bySurplus[by] = (oracle.bySurplus[by] ?? 0) + 1;
  }
  for (const column of compared) {
    const differing = rows.filter((r) => r[`differ_${column}`] === true);
    const only = differing.filter((r) => compared.every((other) => other === column || r[`differ_${other}`] !== true));
    const filling = rows.filter((r) => r[`fill_${column}`] === true);
    oracle.differ[column] = { groups: new Set(differing.map((r) => r.grp)).size, rows: differing.length, only: only.length };
    oracle.fill[column] = { groups: new Set(filling.map((r) => r.grp)).size, rows: filling.length };
  }
  return oracle;
}
