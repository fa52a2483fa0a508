/**
 * `scan --format prometheus` and `--metrics-file`: the scan's figures in the
 * Prometheus text exposition format (version 0.0.4, what node_exporter's
 * textfile collector reads), one gauge family per figure with HELP and TYPE,
 * labelled `table` and `key`. prom-client writes the text: it escapes label
 * values and HELP text as the format requires.
 *
 * Every series carries both labels, the run-wide figures (table rows,
 * duration, last success) too, repeated per key: cron jobs that scan
 * different keys of one table into files of one textfile folder then never
 * report the same series twice (node_exporter refuses such a scrape), and
 * each key's staleness can be alerted on by itself.
 */

/** One key's figures; `newRows`/`newSurplus` only from an incremental scan (`--since`). */
export interface MetricsKey {
  name: string;
  groups: number;
  rowsInGroups: number;
  surplus: number;
  largestGroup: number;
  newRows?: number;
  newSurplus?: number;
  undatedRows?: number;
  futureRows?: number;
}

/** What the metrics are built from (a ScanReport is one). */
export interface MetricsReport {
  /** schema-qualified table name */
  table: string;
  rows: number;
  keys: readonly MetricsKey[];
  /** The scan's own measure of its work (monotonic clock), in milliseconds. */
  durationMs: number;
}

interface Family {
  name: string;
  help: string;
  /** undefined: this key has no such figure (a full scan has no new rows). */
  value(key: MetricsKey, report: MetricsReport, succeededAt: Date): number | undefined;
}

const FAMILIES: readonly Family[] = [
  { name: 'lead_dedupe_duplicate_groups', help: 'Groups of two or more rows with equal key values.', value: (key) => key.groups },
  { name: 'lead_dedupe_surplus_rows', help: 'Rows beyond one per duplicate group: what a clean-up would remove.', value: (key) => key.surplus },
  { name: 'lead_dedupe_rows_in_groups', help: 'Rows in duplicate groups, the oldest of each group included.', value: (key) => key.rowsInGroups },
  { name: 'lead_dedupe_largest_group', help: 'Rows in the largest duplicate group (0 when there is none).', value: (key) => key.largestGroup },
  { name: 'lead_dedupe_new_rows', help: 'Rows created or changed in the window of an incremental scan (--since).', value: (key) => key.newRows },
  {
    name: 'lead_dedupe_new_surplus_rows',
    help: 'Surplus rows the window of an incremental scan (--since) added: its rows that are not the oldest of their group.',
    value: (key) => key.newSurplus,
  },
  {
    name: 'lead_dedupe_rows_without_window_value',
    help: 'Rows with no created time (scan --since): no window places them, so every run scans them.',
    value: (key) => key.undatedRows,
  },
  {
    name: 'lead_dedupe_future_dated_rows',
    help: 'Rows of the window of an incremental scan (--since) dated after its clock.',
    value: (key) => key.futureRows,
  },
  { name: 'lead_dedupe_table_rows', help: 'Rows in the table when it was scanned.', value: (_key, report) => report.rows },
  {
    name: 'lead_dedupe_scan_duration_seconds',
    help: "Wall-clock time of the scan's statements, in seconds.",
    value: (_key, report) => report.durationMs / 1000,
  },
  {
    name: 'lead_dedupe_last_success_timestamp_seconds',
    help: 'Unix time of the last successful scan; a failed run leaves the metrics file as it was, so this grows stale.',
    value: (_key, _report, succeededAt) => succeededAt.getTime() / 1000,
  },
];

/** The exposition text; `succeededAt` is when the run finished its work. */
export async function renderScanMetrics(report: MetricsReport, succeededAt: Date): Promise<string> {
  // Loaded when metrics are asked for: evaluating prom-client costs every other run ~30 ms of start-up.
  const loaded = await import('prom-client');
  // prom-client is CommonJS: from the bundle's split chunk its exports arrive as the namespace's default only.
  const { Gauge, Registry } = 'default' in loaded ? (loaded.default as typeof loaded) : loaded;
  // A registry of our own: nothing lands in prom-client's global one, and no default process metrics are collected.
  const registry = new Registry();
  for (const family of FAMILIES) {
    const samples = report.keys.flatMap((key) => {
      const value = family.value(key, report, succeededAt);
      return value === undefined ? [] : [{ labels: { table: report.table, key: key.name }, value }];
    });
    // A family no key has a figure for (new rows in a full scan) is left out rather than printed empty.
    if (samples.length === 0) continue;
    const gauge = new Gauge({ name: family.name, help: family.help, labelNames: ['table', 'key'], registers: [registry] });
    for (const sample of samples) gauge.set(sample.labels, sample.value);
  }
  return registry.metrics();
}
