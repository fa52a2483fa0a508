import { qualifiedName } from '../../db/catalog.js';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { describeNormalize } from '../../keys/key-summary.js';

/** What a watermark belongs to: one table and one key definition, watched through one time column. */
export interface WatermarkKey {
  /** schema-qualified */
  table: string;
  /** The key's name as typed (shown only; two names for the same definition share a watermark). */
  keyName: string;
  /**
   * The definition as canonical JSON: real columns in key order, normalisation (with the
   * country for e164), NULL handling and the window column. A change to any of them is
   * another key, which starts with a full scan of its own.
   */
  definition: string;
}

export function watermarkKeyOf(key: ResolvedKey, windowColumn: string): WatermarkKey {
  const normalize = describeNormalize(key);
  const definition = JSON.stringify({
    columns: key.columns.map((column) => column.column),
    normalize: Object.fromEntries(Object.keys(normalize).map((column) => [column, normalize[column]])),
    defaultCountry: key.defaultCountry,
    nullsEqual: key.nullsEqual,
    windowColumn,
  });
  return { table: qualifiedName(key.table.info), keyName: key.name, definition };
}

/** One string per table and definition, for maps. */
export function watermarkId(key: WatermarkKey): string {
  return JSON.stringify([key.table, key.definition]);
}

/** What `--since last` keeps per key between runs. */
export interface WatermarkState {
  /** The server's clock when the run began, held back to the oldest open transaction: the next window starts here minus the overlap. */
  watermark: Date;
  /**
   * Per zoneless (`timestamp`, `date`) window column: the greatest value the run saw, as its UTC wall
   * time (the column's own value, never read through a TimeZone); the next window also starts there
   * minus the overlap, so rows written by a client in another TimeZone are compared with their own kind.
   */
  wallMarks: Record<string, Date>;
  /** Ids (as text) of surplus rows this run reported that the next window holds again: counted once, not again. */
  reported: string[];
}

/** Where watermarks are kept: the tool's schema (db) or a file (--state-file). */
export interface WatermarkStore {
  /** Where they are, for messages: `lead_dedupe.lead_dedupe_watermarks` or the file's path. */
  describe: string;
  /** Why this store keeps only the watermark (no marks of zoneless columns, no reported rows); null when it keeps all. */
  limitation: string | null;
  /** The stored state of each key that has one, by watermarkId. */
  read(keys: WatermarkKey[]): Promise<Map<string, WatermarkState>>;
  /** Sets the keys' states; called only after the run's output was written. */
  write(entries: { key: WatermarkKey; state: WatermarkState }[]): Promise<void>;
}

/** At most this many reported ids are kept per key; beyond it a few alerts may repeat, and the run says so. */
export const REPORTED_IDS_LIMIT = 10_000;

/** The state's optional parts as stored text (JSON), beside the watermark. */
export function encodeStateDetails(state: WatermarkState): string {
  const wallMarks = Object.fromEntries(Object.entries(state.wallMarks).map(([column, mark]) => [column, mark.toISOString()]));
  return JSON.stringify({ wallMarks, reported: state.reported });
}

/** The stored details back; anything unreadable is left out (the watermark alone still works). */
export function decodeStateDetails(watermark: Date, text: string | null | undefined): WatermarkState {
  const state: WatermarkState = { watermark, wallMarks: {}, reported: [] };
  if (text === null || text === undefined || text === '') return state;
  let parsed: { wallMarks?: unknown; reported?: unknown };
  try {
    parsed = JSON.parse(text);
  } catch {
    return state;
  }
  if (parsed !== null && typeof parsed.wallMarks === 'object' && parsed.wallMarks !== null) {
    for (const [column, value] of Object.entries(parsed.wallMarks)) {
      if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) state.wallMarks[column] = new Date(value);
    }
  }
  if (Array.isArray(parsed?.reported)) state.reported = parsed.reported.filter((id): id is string => typeof id === 'string').slice(0, REPORTED_IDS_LIMIT);
  return state;
}
