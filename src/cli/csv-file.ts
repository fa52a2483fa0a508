import { once } from 'node:events';
import { stringify } from 'csv-stringify';
import { CSV_CAST } from '../render/common/csv-cast.js';
import { openAtomicFile } from './atomic-file.js';

export interface CsvWriter {
  write(rows: Record<string, unknown>[]): Promise<void>;
  /** The file is complete: rename it into place. */
  close(): Promise<void>;
  /** The export failed: remove the temporary file; returns the error to report. */
  discard(cause: unknown): Promise<unknown>;
}

/**
 * A streamed CSV file with a header, honouring back-pressure so memory stays
 * flat for millions of rows; written through cli/atomic-file.ts, so the
 * path holds either the whole file or what it held before.
 */
export async function openCsvFile(path: string, flag: string, columns: string[]): Promise<CsvWriter> {
  const file = await openAtomicFile(path, flag);
  const stringifier = stringify({ header: true, columns, cast: CSV_CAST });
  stringifier.pipe(file.stream, { end: false });
  const failed = new Promise<never>((_, reject) => {
    file.stream.on('error', reject);
    stringifier.on('error', reject);
  });
  failed.catch(() => undefined);
  return {
    async write(rows) {
      for (const row of rows) {
        if (!stringifier.write(row)) await Promise.race([once(stringifier, 'drain'), failed]);
      }
    },
    async close() {
      stringifier.end();
      await Promise.race([once(stringifier, 'end'), failed]);
      await file.commit();
    },
    async discard(cause) {
      stringifier.destroy();
      return file.discard(cause);
    },
  };
}
