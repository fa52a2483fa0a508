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

/** Where watermarks are kept: the tool's schema (db) or a file (--state-file). */
export interface WatermarkStore {
  /** Where they are, for messages: `lead_dedupe.lead_dedupe_watermarks` or the file's path. */
  describe: string;
  /** The stored watermark of each key that has one, by watermarkId. */
  read(keys: WatermarkKey[]): Promise<Map<string, Date>>;
  /** Sets the keys' watermarks; called only after the run's output was written. */
  write(entries: { key: WatermarkKey; watermark: Date }[]): Promise<void>;
}
