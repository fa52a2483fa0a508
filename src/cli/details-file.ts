import { exportDetails, type DetailsSummary } from '../scan/details.js';
import type { GroupFigures } from '../scan/group-figures.js';
import type { FileRedactor } from '../core/redaction.js';
import type { Database } from '../db/database.js';
import type { ReadSessions } from '../db/shared-snapshot.js';
import type { ResolvedKey } from '../keys/key-definition.js';
import { openAtomicFile } from './atomic-file.js';

/** A complete export, not yet in place: the command commits it once the scan beside it succeeded too. */
export interface WrittenDetails {
  summary: DetailsSummary;
  commit(): Promise<void>;
  discard(cause: unknown): Promise<unknown>;
}

/**
 * `--details <file.csv>`: the export into a temporary file beside the
 * target (cli/atomic-file.ts); a failed export removes only that temporary
 * file, never what was at the path before.
 */
export async function writeDetailsFile(
  database: Database,
  keys: ResolvedKey[],
  path: string,
  sessions: ReadSessions,
  redactor: FileRedactor | null = null,
  figures: readonly GroupFigures[] | null = null,
): Promise<WrittenDetails> {
  const file = await openAtomicFile(path, '--details');
  try {
    const summary = await exportDetails(database, keys, file.stream, sessions, redactor, figures);
    return { summary, commit: () => file.commit(), discard: (cause) => file.discard(cause) };
  } catch (error) {
    throw await file.discard(error);
  }
}
