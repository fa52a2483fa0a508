import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { exportDetails, type DetailsSummary } from '../core/details.js';
import type { Database } from '../db/database.js';
import { UsageError } from '../errors.js';
import type { ResolvedKey } from '../keys/key-definition.js';

/** `--details <file.csv>`: the export into a file; a failed export leaves no half-written file behind. */
export async function writeDetailsFile(database: Database, keys: ResolvedKey[], path: string): Promise<DetailsSummary> {
  const file = createWriteStream(path);
  const opened = new Promise<void>((resolve, reject) => {
    file.once('open', () => resolve());
    file.once('error', (error) => reject(new UsageError(`cannot write ${path}: ${error.message}`)));
  });
  await opened;
  try {
    const summary = await exportDetails(database, keys, file);
    file.end();
    await finished(file);
    return summary;
  } catch (error) {
    file.destroy();
    await rm(path, { force: true });
    throw error;
  }
}
