import type { TableInfo } from '../db/catalog.js';
import { findColumn } from '../db/catalog.js';
import type { KeyDefinition } from './key-definition.js';
import { PRESET_KEYS } from './presets.js';

/** A preset or config key left out of an all-keys run because the table lacks some of its columns. */
export interface SkippedKey {
  name: string;
  /** The columns (after --map) the table does not have, in the key's order. */
  missingColumns: string[];
  /** The catalog's full sentence (did-you-mean, the table's columns): JSON carries it, the text report does not. */
  reason: string;
}

export function skippedKey(info: TableInfo, definition: KeyDefinition, columnMap: Record<string, string>, reason: string): SkippedKey {
  const real = definition.columns.map((logical) => columnMap[logical] ?? logical);
  return { name: definition.name, missingColumns: real.filter((column) => findColumn(info, column) === undefined), reason };
}

/**
 * Every skipped key in one short line, e.g. `5 presets skipped: columns not in public.leads (device_id,
 * phone, niche, user_id); --key <column>,<column> names your own`; null when none was skipped. The
 * per-key sentences stay in the JSON report.
 */
export function skippedKeysLine(skipped: readonly SkippedKey[], table: string): string | null {
  if (skipped.length === 0) return null;
  const presets = skipped.every((key) => PRESET_KEYS.some((preset) => preset.name === key.name));
  const what = `${skipped.length} ${presets ? 'preset' : 'key'}${skipped.length === 1 ? '' : 's'}`;
  const columns = [...new Set(skipped.flatMap((key) => key.missingColumns))];
  return `${what} skipped: columns not in ${table} (${columns.join(', ')}); --key <column>,<column> names your own`;
}
