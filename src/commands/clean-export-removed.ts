import { openCsvFile } from '../cli/csv-file.js';
import { note } from '../cli/output.js';
import type { CleanOptions, CleanResult } from '../clean/types.js';
import { removedColumns, streamRemovedRows } from '../clean/restore/export-removed.js';
import type { Database } from '../db/database.js';
import { firstLineOf } from '../db/database-error.js';
import { FileWriteError } from '../errors.js';
import { formatCount } from '../render/common/format.js';

/** --export-removed: the run's removed rows from the archive; null when written, else why not. */
export async function exportRemoved(
  database: Database,
  options: CleanOptions,
  result: CleanResult,
  path: string,
  flags: { quiet?: boolean },
): Promise<string | null> {
  try {
    const csv = await openCsvFile(path, '--export-removed', removedColumns(options.key.table));
    let written: number;
    try {
      written = await streamRemovedRows(database, { archiveSchema: options.archiveSchema, runId: result.runId, table: options.key.table }, (rows) =>
        csv.write(rows),
      );
      await csv.close();
    } catch (error) {
      throw await csv.discard(error);
    }
    note(`export: ${formatCount(written)} removed rows written to ${path}`, flags);
    return null;
  } catch (error) {
    return error instanceof FileWriteError ? error.message : `cannot write --export-removed ${path}: ${firstLineOf(error)}`;
  }
}
