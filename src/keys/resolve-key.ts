import { findColumn, isTextColumn, qualifiedName, requireColumn, type TableInfo } from '../db/catalog.js';
import { CatalogError, UsageError } from '../errors.js';
import type { KeyDefinition, LeadTable, NormalizeRule, ResolvedKey } from './key-definition.js';
import { callingCodeFor } from './normalize.js';
import { PRESET_KEYS } from './presets.js';
import { didYouMean } from '../util/did-you-mean.js';
import { skippedKey, skippedKeysLine, type SkippedKey } from './skipped-keys.js';

export interface KeySettings {
  /** logical name → real column, e.g. { phone: 'phone_number' } */
  columnMap: Record<string, string>;
  /** logical (or real) column name → rule, applied in every key that has the column */
  normalize: Record<string, NormalizeRule>;
  defaultCountry: string | null;
  nullsEqual: boolean;
  /** Named keys from the config file; they can shadow presets. */
  customKeys: KeyDefinition[];
  /**
   * The normalize targets a person typed (--normalize): one no key uses is almost always a typo, so it
   * is an error. A config file's rules apply to whichever keys have the column. Default: every target.
   */
  typedNormalizeTargets?: readonly string[];
}

/** The created column orders rows by age, so it must hold a point in time. */
const DATE_TIME_TYPES = /^(timestamp|date)\b/;

export const DEFAULT_CREATED_COLUMN = 'created_at';

/**
 * The table with its id and created columns. A created column the user
 * named (flag or config) must exist and be a date/time; without one, the
 * default created_at is used when the table has it as a date/time, and
 * otherwise rows are ordered by id (createdFallback says why).
 */
export function resolveLeadTable(info: TableInfo, idColumn: string, createdColumn: string | null): LeadTable {
  requireColumn(info, idColumn, 'id column');
  if (createdColumn !== null) return { info, idColumn, createdColumn: requireTimeColumn(info, createdColumn, 'created column') };
  const fallback = findColumn(info, DEFAULT_CREATED_COLUMN);
  if (fallback === undefined) return { info, idColumn, createdColumn: null, createdFallback: `no ${DEFAULT_CREATED_COLUMN} column` };
  if (!DATE_TIME_TYPES.test(fallback.type)) {
    return { info, idColumn, createdColumn: null, createdFallback: `${DEFAULT_CREATED_COLUMN} is ${fallback.type}, not a date/time` };
  }
  return { info, idColumn, createdColumn: fallback.name };
}

/** A column that must hold a point in time (the created column, scan's --changed-column); its real name. */
export function requireTimeColumn(info: TableInfo, name: string, what: string): string {
  const column = requireColumn(info, name, what);
  if (!DATE_TIME_TYPES.test(column.type)) {
    throw new UsageError(
      `${what} "${column.name}" of ${qualifiedName(info)} is ${column.type}; it must be a date/time column (timestamp, timestamptz or date)`,
    );
  }
  return column.name;
}

export interface ResolvedKeys {
  keys: ResolvedKey[];
  /** Presets left out of an all-presets scan because this table lacks their columns. */
  skipped: SkippedKey[];
}

/**
 * Turns `--key` values into checked keys. With no value: every preset and
 * config key that this table can hold (the others are reported as skipped).
 */
export function resolveKeys(table: LeadTable, requested: string[], settings: KeySettings): ResolvedKeys {
  const result: ResolvedKeys =
    requested.length === 0
      ? resolveNamedKeys(table, settings)
      : { keys: requested.map((text) => resolveKey(table, lookUpKey(table, text, namedKeys(settings), settings), settings)), skipped: [] };
  if (result.keys.length === 0) {
    throw new CatalogError(`no key can be scanned; ${skippedKeysLine(result.skipped, qualifiedName(table.info))}`);
  }
  checkNormalizeTargets(result.keys, settings);
  return result;
}

/** Every preset and config key this table can hold, and the others as skipped; none at all is not an error here (the report adds its own key). */
export function resolveNamedKeys(table: LeadTable, settings: KeySettings): ResolvedKeys {
  const result: ResolvedKeys = { keys: [], skipped: [] };
  for (const definition of namedKeys(settings)) {
    try {
      result.keys.push(resolveKey(table, definition, settings));
    } catch (error) {
      if (!(error instanceof CatalogError)) throw error;
      result.skipped.push(skippedKey(table.info, definition, settings.columnMap, error.message));
    }
  }
  return result;
}

function namedKeys(settings: KeySettings): KeyDefinition[] {
  return [...settings.customKeys, ...PRESET_KEYS.filter((p) => !settings.customKeys.some((c) => c.name === p.name))];
}

function lookUpKey(table: LeadTable, text: string, named: KeyDefinition[], settings: KeySettings): KeyDefinition {
  const name = text.trim();
  const known = named.find((key) => key.name === name);
  if (known) return known;
  const columns = name.split(',').map((part) => part.trim());
  if (columns.length > 1 || findColumn(table.info, settings.columnMap[name] ?? name)) {
    if (columns.some((column) => column === '')) throw new UsageError(`empty column name in --key "${text}"`);
    if (new Set(columns).size !== columns.length) throw new UsageError(`--key "${text}" names a column twice`);
    return { name: columns.join(','), columns };
  }
  throw new UsageError(
    `unknown key "${name}"${didYouMean(
      name,
      named.map((key) => key.name),
    )}; presets: ${named.map((key) => key.name).join(', ')}; or list columns, e.g. --key device_id,phone`,
  );
}

export function resolveKey(table: LeadTable, definition: KeyDefinition, settings: KeySettings): ResolvedKey {
  let callingCode: string | null = null;
  const columns = definition.columns.map((logical) => {
    const column = requireColumn(table.info, settings.columnMap[logical] ?? logical, `key ${definition.name}: column`);
    const normalize = definition.normalize?.[logical] ?? settings.normalize[logical] ?? settings.normalize[column.name] ?? null;
    if (normalize !== null && !isTextColumn(column)) {
      throw new UsageError(`--normalize ${logical}=${normalize} needs a text column; ${column.name} is ${column.type}`);
    }
    if (normalize === 'e164') callingCode = callingCodeFor(settings.defaultCountry);
    return { logical, column: column.name, normalize };
  });
  return {
    name: definition.name,
    table,
    columns,
    nullsEqual: definition.nullsEqual ?? settings.nullsEqual,
    callingCode,
    defaultCountry: callingCode === null ? null : (settings.defaultCountry?.toUpperCase() ?? null),
  };
}

/** A --normalize for a column no key uses is almost always a typo. */
function checkNormalizeTargets(keys: ResolvedKey[], settings: KeySettings): void {
  for (const target of settings.typedNormalizeTargets ?? Object.keys(settings.normalize)) {
    const used = keys.some((key) => key.columns.some((c) => c.logical === target || c.column === target));
    if (!used) throw new UsageError(`--normalize names "${target}", which no scanned key uses`);
  }
}
