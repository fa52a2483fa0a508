import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';

/** Every gauge scan writes, in the order it writes them (full scan; --since adds the two new_* families). */
export const SCAN_GAUGES = [
  'lead_dedupe_duplicate_groups',
  'lead_dedupe_surplus_rows',
  'lead_dedupe_rows_in_groups',
  'lead_dedupe_largest_group',
  'lead_dedupe_table_rows',
  'lead_dedupe_scan_duration_seconds',
  'lead_dedupe_last_success_timestamp_seconds',
];

export interface ParsedMetrics {
  families: ParsedFamily[];
  /** The value of `family{table, key}`, or undefined when there is no such sample. */
  value(family: string, labels: { table: string; key: string }): number | undefined;
}

/**
 * Parses exposition text with parse-prometheus-text-format (a port of the
 * Prometheus Python client's parser): HELP and TYPE lines, label escapes.
 * The text must end in a newline, as node_exporter's textfile collector needs.
 */
export function parseMetrics(text: string): ParsedMetrics {
  if (!text.endsWith('\n')) throw new Error('exposition text must end with a newline');
  const families = parsePrometheusTextFormat(text);
  return {
    families,
    value(family, labels) {
      const sample = families
        .find((candidate) => candidate.name === family)
        ?.metrics.find((metric) => metric.labels?.table === labels.table && metric.labels?.key === labels.key);
      return sample === undefined ? undefined : Number(sample.value);
    },
  };
}
