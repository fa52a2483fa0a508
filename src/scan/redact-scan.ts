import type { Redactor } from '../core/redaction.js';
import type { ScanReport } from './scan-report.js';

/** The scan's report with its top groups' key values masked (scan --redact, and the report's copy of the scan); counts, ids and times as they are. */
export function redactScan(scan: ScanReport, redact: Redactor): ScanReport {
  return {
    ...scan,
    keys: scan.keys.map((key) => ({
      ...key,
      top: key.top.map((group) => ({ ...group, key: Object.fromEntries(Object.entries(group.key).map(([column, value]) => [column, redact(value)])) })),
    })),
  };
}
