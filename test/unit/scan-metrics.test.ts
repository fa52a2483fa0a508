import { register } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { surplusLimitFlag } from '../../src/cli/surplus-limit-flag.js';
import { judgeSurplus } from '../../src/core/surplus-limit.js';
import { UsageError } from '../../src/errors.js';
import { renderScanMetrics, type MetricsReport } from '../../src/render/scan/prometheus.js';
import { parseMetrics, SCAN_GAUGES } from '../support/prometheus.js';

const succeededAt = new Date('2026-03-01T12:00:00.250Z');
/** A table name with every character the format escapes in a label value: backslash, double quote, newline. */
const oddTable = 'crm."le\\ads"\nnew';

const fullScan: MetricsReport = {
  table: oddTable,
  rows: 5_000_000,
  durationMs: 1234,
  keys: [
    { name: 'device-phone', groups: 120, rowsInGroups: 300, surplus: 180, largestGroup: 9 },
    { name: 'user-phone', groups: 0, rowsInGroups: 0, surplus: 0, largestGroup: 0 },
  ],
};

const incremental: MetricsReport = {
  ...fullScan,
  keys: [
    { name: 'device-phone', groups: 120, rowsInGroups: 300, surplus: 180, largestGroup: 9, newRows: 1000, newSurplus: 500 },
    { name: 'user-phone', groups: 0, rowsInGroups: 0, surplus: 0, largestGroup: 0, newRows: 1000, newSurplus: 0 },
  ],
};

describe('the metrics builder (parsed with parse-prometheus-text-format)', () => {
  it('writes each gauge with HELP and TYPE, labels table and key escaped, every figure of every key', async () => {
    const text = await renderScanMetrics(fullScan, succeededAt);
    const parsed = parseMetrics(text);
    expect(parsed.families.map((family) => family.name)).toEqual(SCAN_GAUGES);
    for (const family of parsed.families) {
      expect(family.type, family.name).toBe('GAUGE');
      expect(family.help.length, family.name).toBeGreaterThan(20);
      expect(family.metrics.map((sample) => sample.labels)).toEqual([
        { table: oddTable, key: 'device-phone' },
        { table: oddTable, key: 'user-phone' },
      ]);
    }
    const at = (family: string, key: string) => parsed.value(family, { table: oddTable, key });
    expect(at('lead_dedupe_duplicate_groups', 'device-phone')).toBe(120);
    expect(at('lead_dedupe_surplus_rows', 'device-phone')).toBe(180);
    expect(at('lead_dedupe_rows_in_groups', 'device-phone')).toBe(300);
    expect(at('lead_dedupe_largest_group', 'device-phone')).toBe(9);
    expect(at('lead_dedupe_surplus_rows', 'user-phone')).toBe(0);
    expect(at('lead_dedupe_table_rows', 'user-phone')).toBe(5_000_000);
    expect(at('lead_dedupe_scan_duration_seconds', 'device-phone')).toBe(1.234);
    expect(at('lead_dedupe_last_success_timestamp_seconds', 'user-phone')).toBe(Date.parse('2026-03-01T12:00:00.250Z') / 1000);
    // the escapes as written, one sample per line: a raw newline in a label would split the line
    expect(text).toContain('{table="crm.\\"le\\\\ads\\"\\nnew",key="device-phone"} 120\n');
  });

  it('a full scan has no new_* families; keys carrying newRows and newSurplus add lead_dedupe_new_rows and lead_dedupe_new_surplus_rows', async () => {
    expect(parseMetrics(await renderScanMetrics(fullScan, succeededAt)).families.map((f) => f.name)).not.toContain('lead_dedupe_new_rows');
    const parsed = parseMetrics(await renderScanMetrics(incremental, succeededAt));
    expect(parsed.families.map((family) => family.name)).toEqual([
      ...SCAN_GAUGES.slice(0, 4),
      'lead_dedupe_new_rows',
      'lead_dedupe_new_surplus_rows',
      ...SCAN_GAUGES.slice(4),
    ]);
    const at = (family: string, key: string) => parsed.value(family, { table: oddTable, key });
    expect(at('lead_dedupe_new_rows', 'device-phone')).toBe(1000);
    expect(at('lead_dedupe_new_surplus_rows', 'device-phone')).toBe(500);
    expect(at('lead_dedupe_new_surplus_rows', 'user-phone')).toBe(0);
    expect(at('lead_dedupe_surplus_rows', 'device-phone')).toBe(180);
    for (const family of parsed.families) expect([family.name, family.type]).toEqual([family.name, 'GAUGE']);
  });

  it('collects no default process metrics and registers nothing in prom-client’s global registry', async () => {
    const text = await renderScanMetrics(fullScan, succeededAt);
    expect(text).not.toMatch(/^(process|nodejs)_/m);
    expect(register.getMetricsAsArray()).toHaveLength(0);
    // twice in one process: a registry of its own each time, so no "already registered" error
    expect(await renderScanMetrics(fullScan, succeededAt)).toBe(text);
  });
});

describe('--max-surplus', () => {
  const keys = [
    { name: 'device-phone', surplus: 180 },
    { name: 'user-phone', surplus: 0 },
    { name: 'phone', surplus: 181 },
  ];

  it('names the keys whose surplus is above the limit (equal is not above)', () => {
    expect(judgeSurplus(keys, 180)).toEqual({ max: 180, keysAbove: ['phone'] });
    expect(judgeSurplus(keys, 179)).toEqual({ max: 179, keysAbove: ['device-phone', 'phone'] });
    expect(judgeSurplus(keys, 0)).toEqual({ max: 0, keysAbove: ['device-phone', 'phone'] });
    expect(judgeSurplus(keys, 181)).toEqual({ max: 181, keysAbove: [] });
  });

  it('judges newSurplus instead of the surplus when a key carries it (scan --since)', () => {
    const windowed = [
      { name: 'device-phone', surplus: 180, newSurplus: 3 },
      { name: 'phone', surplus: 0, newSurplus: 0 },
    ];
    expect(judgeSurplus(windowed, 2)).toEqual({ max: 2, keysAbove: ['device-phone'] });
    expect(judgeSurplus(windowed, 3)).toEqual({ max: 3, keysAbove: [] });
  });

  it('--fail-on-duplicates is the limit 0; both at once, a negative or a non-number is a usage error', () => {
    expect(surplusLimitFlag({})).toBeNull();
    expect(surplusLimitFlag({ failOnDuplicates: true })).toBe(0);
    expect(surplusLimitFlag({ failOnDuplicates: false, maxSurplus: '25' })).toBe(25);
    const refused = (flags: Parameters<typeof surplusLimitFlag>[0], source?: (flag: string) => string) => {
      try {
        surplusLimitFlag(flags, source);
        return 'accepted';
      } catch (error) {
        return error instanceof UsageError ? error.message : `unexpected ${String(error)}`;
      }
    };
    expect(refused({ failOnDuplicates: true, maxSurplus: '5' })).toBe(
      '--fail-on-duplicates and --max-surplus both set the limit (--fail-on-duplicates is --max-surplus 0); give one of them',
    );
    expect(
      refused({ failOnDuplicates: true, maxSurplus: '5' }, (flag) => (flag === '--fail-on-duplicates' ? 'config "commands.scan.failOnDuplicates"' : flag)),
    ).toMatch(/^config "commands\.scan\.failOnDuplicates" and --max-surplus both set the limit/);
    expect(refused({ maxSurplus: '-1' })).toBe('--max-surplus takes a whole number from 0 to 9007199254740991; got "-1"');
    expect(refused({ maxSurplus: 'ten' })).toBe('--max-surplus takes a whole number from 0 to 9007199254740991; got "ten"');
    expect(refused({ maxSurplus: '1.5' })).toMatch(/^--max-surplus takes a whole number/);
  });
});
