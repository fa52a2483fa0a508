import { describe, expect, it } from 'vitest';
import { planGroupSizes, planSeed } from '../../src/seed/seed-plan.js';
import { histogram } from '../../src/render/histogram.js';
import { renderSeed } from '../../src/render/render-seed.js';

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
    expect(renderSeed({ table: 'public.leads', childTable: 'public.lead_activities', rows: 5_000_000, activities: 0, plan, durationMs: 1 }, 'table')).toContain(
      '403,450 surplus rows, largest group 39',
    );
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
    expect(histogram([{ label: '2', value: 10 }, { label: '10-19', value: 5 }, { label: '20+', value: 0 }], 10)).toEqual([
      '  2      ██████████ 10',
      '  10-19  █████ 5',
      '  20+    0',
    ]);
  });
});
