import { stringify } from 'csv-stringify/sync';
import type { ScanReport } from '../../scan/scan-report.js';
import { CSV_CAST } from '../common/csv-cast.js';

/** One row per key with the same figures as the JSON report (an incremental scan adds since … groups_touched at the end). */
export function renderScanCsv(report: ScanReport): string {
  return stringify(
    report.keys.map((key) => ({
      table: report.table,
      rows: report.rows,
      key: key.name,
      columns: key.columns.join(' '),
      normalize: Object.entries(key.normalize)
        .map(([c, r]) => `${c}=${r}`)
        .join(' '),
      nulls_equal: key.nullsEqual,
      groups: key.groups,
      rows_in_groups: key.rowsInGroups,
      surplus: key.surplus,
      largest_group: key.largestGroup,
      ...Object.fromEntries(key.sizes.map((s) => [`groups_of_${s.size.replace('+', '_plus').replace('-', '_to_')}`, s.groups])),
      // empty without a limit (--max-surplus, --fail-on-duplicates), so the columns stay the same either way
      above_max_surplus: report.surplusLimit?.keysAbove.includes(key.name),
      ...(report.mode === 'incremental'
        ? { since: key.since ?? '', until: key.until, new_rows: key.newRows, new_surplus: key.newSurplus, groups_touched: key.groupsTouched }
        : {}),
    })),
    { header: true, cast: CSV_CAST },
  );
}
