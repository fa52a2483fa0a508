import { UsageError } from '../errors.js';
import { COMPARATOR_KINDS, DEFAULT_SUSPECTS, type BlockRule, type ComparatorKind, type ComparatorRule, type SuspectsConfig } from '../suspects/model.js';
import { didYouMean } from '../util/did-you-mean.js';
import { parseDuration } from './parse/duration.js';

/** --max-pairs when not given (report --suspects uses it too). */
export const SUSPECTS_MAX_PAIRS = 50_000_000;

/** A time bucket may reach a year back. */
const MAX_BUCKET_MS = 366 * 86_400_000;
const FIELDS = ['blocks', 'comparators', 'threshold', 'distinguishing', 'nameSimilarity'];

/**
 * The config file's `suspects` object over the lead defaults: each setting
 * given replaces the default whole (a `blocks` list replaces the default
 * blocks). Every problem is a usage error naming its path.
 */
export function readSuspectsConfig(raw: Record<string, unknown> | undefined, source = 'config "suspects"'): SuspectsConfig {
  if (raw === undefined) return DEFAULT_SUSPECTS;
  for (const field of Object.keys(raw)) {
    if (!FIELDS.includes(field)) throw new UsageError(`${source}.${field} is not a setting${didYouMean(field, FIELDS)}; settings: ${FIELDS.join(', ')}`);
  }
  return {
    blocks: raw.blocks === undefined ? DEFAULT_SUSPECTS.blocks : list(raw.blocks, `${source}.blocks`).map((b, i) => block(b, `${source}.blocks[${i}]`)),
    comparators:
      raw.comparators === undefined
        ? DEFAULT_SUSPECTS.comparators
        : list(raw.comparators, `${source}.comparators`).map((c, i) => comparator(c, `${source}.comparators[${i}]`)),
    threshold: raw.threshold === undefined ? DEFAULT_SUSPECTS.threshold : finite(raw.threshold, `${source}.threshold`),
    distinguishing:
      raw.distinguishing === undefined
        ? DEFAULT_SUSPECTS.distinguishing
        : list(raw.distinguishing, `${source}.distinguishing`).map((c, i) => text(c, `${source}.distinguishing[${i}]`)),
    nameSimilarity: raw.nameSimilarity === undefined ? DEFAULT_SUSPECTS.nameSimilarity : fraction(raw.nameSimilarity, `${source}.nameSimilarity`),
  };
}

function block(value: unknown, where: string): BlockRule {
  const o = object(value, where, ['name', 'columns', 'oneEdit']);
  const columns = list(o.columns, `${where}.columns`).map((c, i) => text(c, `${where}.columns[${i}]`));
  if (columns.length === 0) throw new UsageError(`${where}.columns must name at least one column`);
  if (o.oneEdit !== undefined && typeof o.oneEdit !== 'boolean') throw new UsageError(`${where}.oneEdit must be true or false`);
  return { name: text(o.name, `${where}.name`), columns, ...(o.oneEdit === true && { oneEdit: true }) };
}

function comparator(value: unknown, where: string): ComparatorRule {
  const o = object(value, where, ['column', 'kind', 'weights']);
  const kind = text(o.kind, `${where}.kind`) as ComparatorKind;
  if (!COMPARATOR_KINDS.includes(kind)) throw new UsageError(`${where}.kind takes ${COMPARATOR_KINDS.join(', ')}; got ${JSON.stringify(o.kind)}`);
  const weights = Object.fromEntries(Object.entries(object(o.weights, `${where}.weights`)).map(([k, v]) => [k, finite(v, `${where}.weights.${k}`)]));
  const rule: ComparatorRule = { column: text(o.column, `${where}.column`), kind, weights };
  if (kind === 'time') {
    rule.buckets = Object.entries(weights).map(([label, weight]) => ({
      label,
      seconds: parseDuration(label, `${where}.weights key`, 0, MAX_BUCKET_MS) / 1000,
      weight,
    }));
  }
  return rule;
}

function object(value: unknown, where: string, fields?: string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${where} must be an object`);
  for (const field of fields === undefined ? [] : Object.keys(value)) {
    if (!fields!.includes(field)) throw new UsageError(`${where}.${field} is not a setting${didYouMean(field, fields!)}; settings: ${fields!.join(', ')}`);
  }
  return value as Record<string, unknown>;
}

function list(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new UsageError(`${where} must be a list`);
  return value;
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`${where} must be a non-empty string`);
  return value;
}

function finite(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new UsageError(`${where} must be a number`);
  return value;
}

function fraction(value: unknown, where: string): number {
  const number = finite(value, where);
  if (number < 0 || number > 1) throw new UsageError(`${where} must be from 0 to 1`);
  return number;
}
