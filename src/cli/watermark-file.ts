import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import {
  decodeStateDetails,
  encodeStateDetails,
  watermarkId,
  type WatermarkKey,
  type WatermarkState,
  type WatermarkStore,
} from '../scan/since/watermark-key.js';
import { checkOutputPath, writeFileAtomically } from './atomic-file.js';
import { withFileLock } from './file-lock.js';

const FORMAT = 'lead-dedupe watermarks 1';

interface StoredWatermark {
  table: string;
  key: string;
  /** The key definition as canonical JSON (watermark-key.ts). */
  definition: string;
  /** ISO 8601, UTC */
  watermark: string;
  /** The marks of zoneless window columns and the ids of reported surplus rows, as JSON (watermark-key.ts); absent in older files. */
  details?: string;
}

/**
 * `--state-file <path>`: the watermarks of `scan --since last` where the
 * tool may not write to the database (a read-only role, a hot standby).
 * JSON, one entry per table and key definition; entries of other tables and
 * keys are kept. Checked before the scan (the folder takes new files, an
 * existing file is ours); written whole through a temporary file and a
 * rename, only after the report was written. Runs that share the file
 * (cron jobs of other keys or tables) merge into it under a lock file
 * beside it (`<path>.lock`), re-reading it there: none loses another's
 * watermarks.
 */
export async function openWatermarkFile(path: string, flag = '--state-file'): Promise<WatermarkStore> {
  if (path === '-') throw new UsageError(`${flag} needs a file; - (stdout) cannot keep state`);
  await checkOutputPath(path, flag);
  await load(path, flag);
  return {
    describe: path,
    limitation: null,
    async read(keys: WatermarkKey[]) {
      const wanted = new Set(keys.map(watermarkId));
      const result = new Map<string, WatermarkState>();
      for (const entry of await load(path, flag)) {
        const id = watermarkId({ table: entry.table, keyName: entry.key, definition: entry.definition });
        if (wanted.has(id)) result.set(id, decodeStateDetails(new Date(entry.watermark), entry.details));
      }
      return result;
    },
    async write(entries) {
      await withFileLock(path, flag, async () => {
        const updated = new Map(
          (await load(path, flag)).map((entry) => [watermarkId({ table: entry.table, keyName: entry.key, definition: entry.definition }), entry]),
        );
        for (const { key, state } of entries) {
          updated.set(watermarkId(key), {
            table: key.table,
            key: key.keyName,
            definition: key.definition,
            watermark: state.watermark.toISOString(),
            details: encodeStateDetails(state),
          });
        }
        const text = `${JSON.stringify({ format: FORMAT, watermarks: [...updated.values()] }, null, 2)}\n`;
        await writeFileAtomically(path, text, flag);
      });
    },
  };
}

async function load(path: string, flag: string): Promise<StoredWatermark[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UsageError(`${flag} ${path}: cannot read it (${(error as Error).message})`);
  }
  if (text.trim() === '') return [];
  const notOurs = new UsageError(`${flag} ${path} is not a lead-dedupe watermark file (expected {"format": "${FORMAT}", …}); name a new file or that file`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw notOurs;
  }
  const document = parsed as { format?: unknown; watermarks?: unknown };
  if (document?.format !== FORMAT || !Array.isArray(document.watermarks)) throw notOurs;
  return document.watermarks.map((entry: Partial<StoredWatermark>) => {
    const valid =
      typeof entry?.table === 'string' &&
      typeof entry.key === 'string' &&
      typeof entry.definition === 'string' &&
      typeof entry.watermark === 'string' &&
      !Number.isNaN(Date.parse(entry.watermark)) &&
      (entry.details === undefined || typeof entry.details === 'string');
    if (!valid) throw notOurs;
    return entry as StoredWatermark;
  });
}
