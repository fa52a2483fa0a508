import { Writable } from 'node:stream';
import type { Database } from '../../src/db/database.js';
import { withSharedSnapshot } from '../../src/db/shared-snapshot.js';
import { exportDetails } from '../../src/scan/details.js';
import { scan, type ScanOptions } from '../../src/scan/scan.js';
import { scanFromExport } from '../../src/scan/scan-from-export.js';
import type { ScanReport } from '../../src/scan/scan-report.js';

/**
 * The report `scan --details` takes from the export's own rows
 * (scan-from-export.ts), the CSV written beside it, and the plain scan's
 * report of the same options, for tests that hold the two reports equal.
 */
export async function exportAndPlainReports(database: Database, options: ScanOptions) {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  const [fromExport, exported] = await withSharedSnapshot(database, (sessions) =>
    scanFromExport(options, sessions, (figures) => exportDetails(database, options.keys, sink, sessions, null, figures)),
  );
  if (fromExport.status === 'rejected') throw fromExport.reason;
  if (exported.status === 'rejected') throw exported.reason;
  const plain = await scan(database, options);
  return { fromExport: fromExport.value, plain, csv: Buffer.concat(chunks).toString('utf8'), rows: exported.value.rowsPerKey };
}

/** A report without its run time, for comparing two runs. */
export const withoutTime = (report: ScanReport): ScanReport => ({ ...report, durationMs: 0 });
