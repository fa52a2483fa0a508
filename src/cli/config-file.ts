import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { didYouMean } from '../util/did-you-mean.js';
import type { KeyDefinition, NormalizeRule } from '../keys/key-definition.js';
import { parseNormalizeRule } from '../keys/normalize.js';

export const DEFAULT_CONFIG_FILE = 'lead-dedupe.config.json';

/** The settings a config file may hold; flags override each of them. */
export interface ConfigFile {
  database?: string;
  table?: string;
  idColumn?: string;
  createdColumn?: string;
  /** logical name → real column, e.g. { "phone": "phone_number" } */
  columns?: Record<string, string>;
  normalize?: Record<string, NormalizeRule>;
  defaultCountry?: string;
  nullsEqual?: boolean;
  keys?: KeyDefinition[];
  /** `suspects`: blocks, comparators, threshold; checked when suspects runs (cli/suspects-config.ts). */
  suspects?: Record<string, unknown>;
  /** Options of individual commands, e.g. { "clean": { "batchSize": 500 } }; read by those commands. */
  commands?: Record<string, Record<string, unknown>>;
}

/** What a named key in `keys` may hold. */
const KEY_FIELDS = ['columns', 'normalize', 'nullsEqual'];

const FIELDS = ['database', 'table', 'idColumn', 'createdColumn', 'columns', 'normalize', 'defaultCountry', 'nullsEqual', 'keys', 'suspects', 'commands'];

/** Reads `--config <file>`, or `lead-dedupe.config.json` in the working directory when present. */
export function loadConfigFile(explicitPath: string | undefined, cwd = process.cwd()): ConfigFile {
  const path = explicitPath ?? resolve(cwd, DEFAULT_CONFIG_FILE);
  if (explicitPath === undefined && !existsSync(path)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message;
    throw new UsageError(`cannot read config file ${path}: ${reason}`);
  }
  return validateConfig(raw, path);
}

export function validateConfig(raw: unknown, source: string): ConfigFile {
  const where = (field: string) => `config ${source}: "${field}"`;
  if (!isObject(raw)) throw new UsageError(`config ${source}: expected a JSON object`);
  for (const field of Object.keys(raw)) {
    if (!FIELDS.includes(field)) throw new UsageError(`${where(field)} is not a setting${didYouMean(field, FIELDS)}; settings: ${FIELDS.join(', ')}`);
  }
  const config: ConfigFile = {};
  for (const field of ['database', 'table', 'idColumn', 'createdColumn', 'defaultCountry'] as const) {
    if (raw[field] !== undefined) config[field] = asString(raw[field], where(field));
  }
  if (raw.nullsEqual !== undefined) config.nullsEqual = asBoolean(raw.nullsEqual, where('nullsEqual'));
  if (raw.columns !== undefined) config.columns = asStringMap(raw.columns, where('columns'));
  if (raw.normalize !== undefined) config.normalize = asRuleMap(raw.normalize, where('normalize'));
  if (raw.keys !== undefined) config.keys = asKeys(raw.keys, where('keys'));
  if (raw.suspects !== undefined) {
    if (!isObject(raw.suspects)) throw new UsageError(`${where('suspects')} must be an object (blocks, comparators, threshold, …)`);
    config.suspects = raw.suspects;
  }
  if (raw.commands !== undefined) {
    if (!isObject(raw.commands) || !Object.values(raw.commands).every(isObject)) {
      throw new UsageError(`${where('commands')} must map command names to objects`);
    }
    config.commands = raw.commands as Record<string, Record<string, unknown>>;
  }
  return config;
}

function asKeys(value: unknown, where: string): KeyDefinition[] {
  if (!isObject(value)) throw new UsageError(`${where} must map key names to { "columns": [...] }`);
  return Object.entries(value).map(([name, definition]) => {
    if (!isObject(definition) || !Array.isArray(definition.columns) || definition.columns.length === 0) {
      throw new UsageError(`${where}.${name} needs "columns": a non-empty list of column names`);
    }
    for (const field of Object.keys(definition)) {
      if (!KEY_FIELDS.includes(field))
        throw new UsageError(`${where}.${name}.${field} is not a key setting${didYouMean(field, KEY_FIELDS)}; settings: ${KEY_FIELDS.join(', ')}`);
    }
    return {
      name,
      columns: definition.columns.map((column) => asString(column, `${where}.${name}.columns`)),
      ...(definition.normalize !== undefined && { normalize: asRuleMap(definition.normalize, `${where}.${name}.normalize`) }),
      ...(definition.nullsEqual !== undefined && { nullsEqual: asBoolean(definition.nullsEqual, `${where}.${name}.nullsEqual`) }),
    };
  });
}

function asRuleMap(value: unknown, where: string): Record<string, NormalizeRule> {
  const map = asStringMap(value, where);
  return Object.fromEntries(Object.entries(map).map(([column, rule]) => [column, parseNormalizeRule(rule)]));
}

function asStringMap(value: unknown, where: string): Record<string, string> {
  if (!isObject(value)) throw new UsageError(`${where} must be an object of strings`);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asString(v, `${where}.${k}`)]));
}

function asString(value: unknown, where: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`${where} must be a non-empty string`);
  return value;
}

function asBoolean(value: unknown, where: string): boolean {
  if (typeof value !== 'boolean') throw new UsageError(`${where} must be true or false`);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
