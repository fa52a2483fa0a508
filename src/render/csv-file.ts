import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { stringify } from 'csv-stringify';

export interface CsvWriter {
  write(rows: Record<string, unknown>[]): Promise<void>;
  close(): Promise<void>;
}

/** csv-stringify options shared by every CSV the tool writes. */
export const CSV_CAST = {
  boolean: (value: boolean) => (value ? 'true' : 'false'),
  date: (value: Date) => value.toISOString(),
  object: (value: object) => JSON.stringify(value),
};

/**
 * A streamed CSV file with a header, honouring back-pressure so memory stays
 * flat for millions of rows.
 */
export function openCsvFile(path: string, columns: string[]): CsvWriter {
  const file = createWriteStream(path);
  const stringifier = stringify({ header: true, columns, cast: CSV_CAST });
  stringifier.pipe(file);
  const failed = new Promise<never>((_, reject) => {
    file.on('error', reject);
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
      await Promise.race([finished(file), failed]);
    },
  };
}
