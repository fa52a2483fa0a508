/** Types for parse-prometheus-text-format (the package ships none): what it returns for gauge families. */
declare module 'parse-prometheus-text-format' {
  export interface ParsedSample {
    /** The value as written, e.g. "12" or "0.064". */
    value: string;
    labels?: Record<string, string>;
    timestamp_ms?: string;
  }
  export interface ParsedFamily {
    name: string;
    help: string;
    /** Upper case: GAUGE, COUNTER, UNTYPED… */
    type: string;
    metrics: ParsedSample[];
  }
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[];
}
