import { describe, expect, it } from 'vitest';
import { planGroupSizes, planSeed } from '../../src/seed/seed-plan.js';
import { histogram } from '../../src/render/common/histogram.js';
import { renderSeed } from '../../src/render/seed/index.js';
import { createTablesStatements, seedTablesStateQuery } from '../../src/seed/seed-sql.js';
import { compileSql } from '../support/compile.js';

describe('planSeed', () => {
  it('reproduces the production finding at the demo size: 8,069 surplus rows, largest group 39', () => {
    const plan = planSeed(100_000);
    expect(plan.groupSizes.reduce((sum, size) => sum + size - 1, 0)).toBe(8_069);
    expect(Math.max(...plan.groupSizes)).toBe(39);
    expect(plan.groupSizes.filter((size) => size === 39)).toHaveLength(1);
    // every row is accounted for
    expect(plan.baseKeys + plan.surplus + plan.formatVariants + plan.siblingReuses + plan.nullPhones).toBe(100_000);
  });

  it('keeps about 70% of groups as pairs and scales the surplus with the rows', () => {
    const plan = planSeed(1_000_000);
    const pairs = plan.groupSizes.filter((size) => size === 2).length / plan.groupSizes.length;
    expect(pairs).toBeGreaterThan(0.65);
    expect(pairs).toBeLessThan(0.75);
    expect(plan.surplus).toBe(80_690);
  });

  it('plans and reports 5M rows (no argument spreading over 200k group sizes)', () => {
    const plan = planSeed(5_000_000);
    expect(plan.largestGroup).toBe(39);
    expect(plan.groupSizes.reduce((sum, size) => sum + size - 1, 0)).toBe(403_450);
    expect(
      renderSeed({ table: 'public.leads', childTable: 'public.lead_activities', rows: 5_000_000, activities: 0, plan, durationMs: 1 }, 'table', {
        width: 200,
        generatedAt: '',
        database: '',
      }),
    ).toContain('403,450 surplus rows, largest group 39');
  });

  it('webhook-race has only race copies', () => {
    const plan = planSeed(1000, 'webhook-race');
    expect(plan.formatVariants + plan.siblingReuses + plan.nullPhones).toBe(0);
  });

  it('trims the last group so the surplus is exact', () => {
    for (const surplus of [1, 2, 37, 38, 39, 1000]) {
      const sizes = planGroupSizes(surplus, Math.min(39, surplus + 1));
      expect(sizes.reduce((sum, size) => sum + size - 1, 0)).toBe(surplus);
      expect(Math.min(...sizes)).toBeGreaterThanOrEqual(2);
    }
  });
});

describe('histogram', () => {
  it('scales bars to the largest bucket and keeps empty buckets empty', () => {
    expect(
      histogram(
        [
          { label: '2', value: 10 },
          { label: '10-19', value: 5 },
          { label: '20+', value: 0 },
        ],
        10,
      ),
    ).toEqual(['  2      ██████████ 10', '  10-19  █████ 5', '  20+    0']);
  });
});

describe('the seed marker', () => {
  const tables = { schema: 'crm', leads: 'leads', activities: 'lead_activities' };

  it('is a comment on both tables seed creates', () => {
    const statements = createTablesStatements(tables).map((statement) => compileSql(statement).sql);
    expect(statements.slice(-2)).toEqual([
      `comment on table "crm"."leads" is 'created by lead-dedupe seed'`,
      `comment on table "crm"."lead_activities" is 'created by lead-dedupe seed'`,
    ]);
  });

  it('is read from the catalog for both names, names as parameters, leads first', () => {
    expect(compileSql(seedTablesStateQuery(tables))).toEqual({
      sql: `select c.relname as name, coalesce(pg_catalog.obj_description(c.oid, 'pg_class') = $1, false) as marked
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where n.nspname = $2 and c.relname in ($3, $4)
order by c.relname <> $5`,
      parameters: ['created by lead-dedupe seed', 'crm', 'leads', 'lead_activities', 'leads'],
    });
  });
});

describe('planSeed near-duplicates', () => {
  it('adds 3% resubmissions with typos and 0.5% relatives, every row still accounted for', () => {
    const plan = planSeed(100_000, 'near-duplicates');
    expect(plan.nearDuplicates).toBe(3_000);
    expect(plan.relatives).toBe(500);
    expect(plan.surplus).toBe(8_069);
    expect(plan.baseKeys + plan.surplus + plan.formatVariants + plan.siblingReuses + plan.nullPhones + plan.nearDuplicates + plan.relatives).toBe(100_000);
  });

  it('production has no near-duplicates; a random state is a whole number', () => {
    expect(planSeed(1000).nearDuplicates + planSeed(1000).relatives).toBe(0);
    expect(() => planSeed(1000, 'near-duplicates', -1)).toThrow(RangeError);
  });
});
