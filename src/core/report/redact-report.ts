import type { Redactor } from '../redaction.js';
import { redactScan } from '../../scan/redact-scan.js';
import { redactSuspects } from '../../suspects/redact-suspects.js';
import type { ReportData } from './report-data.js';

/**
 * The report with every customer value masked: the top groups' key values,
 * the values diagnose splits the surplus by, and the suspects' stored values
 * and the values their reasons quote. Counts, ids, column names,
 * times and run records stay as they are (they identify no customer).
 */
export function redactReport(data: ReportData, redact: Redactor): ReportData {
  const by = data.diagnosis.by;
  return {
    ...data,
    redacted: true,
    scan: redactScan(data.scan, redact),
    suspects: data.suspects === null ? null : redactSuspects(data.suspects, redact),
    diagnosis:
      by === undefined
        ? data.diagnosis
        : { ...data.diagnosis, by: { ...by, values: by.values.map((value) => ({ ...value, value: redact(value.value) as string | null })) } },
  };
}
