import type { KeyReport, ScanReport } from '../../scan/scan-report.js';
import { judgedSurplus, type JudgedKey, type SurplusLimit } from '../../core/surplus-limit.js';
import { formatCount, formatDuration, formatValue, plainTable } from '../common/format.js';
import { histogram } from '../common/histogram.js';
import { distributionText } from '../common/distribution-text.js';
import { skippedKeysLine } from '../../keys/skipped-keys.js';

/** The keys side by side, then each key's histogram and largest groups. */
export function renderScanTable(report: ScanReport, width: number): string {
  const rows = report.rowsEstimated ? `~${formatCount(report.rows)} rows (estimate)` : `${formatCount(report.rows)} rows`;
  const how = report.mode === 'incremental' ? 'scanned incrementally' : 'scanned';
  const lines = [
    `${report.table}: ${rows}, ${report.keys.length} key(s) ${how} in ${formatDuration(report.durationMs)}`,
    ...[distributionText(report.distribution) ?? []].flat(),
    '',
    summaryTable(report.keys, width),
  ];
  const skipped = skippedKeysLine(report.skippedKeys, report.table);
  if (skipped !== null) lines.push(skipped);
  const order = report.rowOrder;
  if (order?.arbitrary) {
    lines.push(`ids in arbitrary order: ${order.reason}, so "oldest first" means nothing here; name a date/time column with --created-column`);
  }
  if (report.surplusLimit !== undefined) lines.push('', limitLine(report.surplusLimit, report.keys));
  for (const key of report.keys) {
    if (key.groups === 0) continue;
    lines.push('', `Group sizes, ${key.name} (groups per size):`, ...histogram(key.sizes.map((s) => ({ label: s.size, value: s.groups }))));
    if (key.top.length > 0) lines.push('', `Largest groups, ${key.name}:`, topTable(key, width, order?.arbitrary === true));
  }
  return `${lines.join('\n')}\n`;
}

/** Which keys crossed --max-surplus (or --fail-on-duplicates, its 0), each with the figure judged. */
function limitLine(limit: SurplusLimit, keys: readonly JudgedKey[]): string {
  if (limit.keysAbove.length === 0) return `surplus limit ${formatCount(limit.max)}: no key above it`;
  const above = keys
    .filter((key) => limit.keysAbove.includes(key.name))
    .map((key) => `${key.name} (${formatCount(judgedSurplus(key))} ${key.newSurplus === undefined ? '' : 'new '}surplus rows)`);
  return `surplus limit ${formatCount(limit.max)} exceeded by: ${above.join(', ')}`;
}

function summaryTable(keys: KeyReport[], width: number): string {
  const table = plainTable({ head: ['', ...keys.map((k) => k.name)] }, width);
  const row = (label: string, cell: (key: KeyReport) => string) => table.push([label, ...keys.map(cell)]);
  row('columns', (k) => k.columns.join(', '));
  row(
    'normalize',
    (k) =>
      Object.entries(k.normalize)
        .map(([c, r]) => `${c}=${r}`)
        .join(', ') || '-',
  );
  row('NULLs', (k) => (k.nullsEqual ? 'equal' : 'distinct'));
  if (keys.some((k) => k.until !== undefined)) {
    row('since', (k) => (k.since === null ? 'start (no watermark yet)' : (k.since ?? '-')));
    row('until', (k) => k.until ?? '-');
    row('new rows', (k) => formatCount(k.newRows ?? 0));
    row('new surplus rows', (k) => formatCount(k.newSurplus ?? 0));
    row('groups touched', (k) => formatCount(k.groupsTouched ?? 0));
    if (keys.some((k) => (k.reportedBefore ?? 0) > 0)) row('surplus reported before', (k) => formatCount(k.reportedBefore ?? 0));
    if (keys.some((k) => (k.undatedRows ?? 0) > 0)) row('rows with no created time', (k) => formatCount(k.undatedRows ?? 0));
    if (keys.some((k) => (k.futureRows ?? 0) > 0)) row('future-dated rows', (k) => formatCount(k.futureRows ?? 0));
  }
  row('duplicate groups', (k) => formatCount(k.groups));
  row('rows in groups', (k) => formatCount(k.rowsInGroups));
  row('surplus rows', (k) => formatCount(k.surplus));
  row('largest group', (k) => formatCount(k.largestGroup));
  return table.toString();
}

function topTable(key: KeyReport, width: number, arbitrary: boolean): string {
  const ids = arbitrary ? 'ids (arbitrary order)' : 'ids (oldest first)';
  const table = plainTable({ head: [...key.columns, 'rows', 'first created', 'last created', ids] }, width);
  for (const group of key.top) {
    table.push([
      ...key.columns.map((c) => formatValue(group.key[c])),
      formatCount(group.count),
      group.firstCreated ?? '-',
      group.lastCreated ?? '-',
      group.ids.join(', ') + (group.count > group.ids.length ? ', …' : ''),
    ]);
  }
  return table.toString();
}
