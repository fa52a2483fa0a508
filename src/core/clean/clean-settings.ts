import { UsageError } from '../../errors.js';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { CLEAN_MODES, KEEP_POLICIES, type CleanMode, type CleanOptions, type KeepPolicy, type MergeRule } from './clean-types.js';
import { parseMergeRule } from './merge-columns.js';

/** clean's flags as commander hands them over (strings; undefined when not given). */
export interface CleanFlagValues {
  keep?: string;
  mode?: string;
  mergeRule: string[];
  batchSize?: string;
  batchRows?: string;
  maxGroups?: string;
  pause?: string;
  lockTimeout?: string;
  statementTimeout?: string;
  archiveSchema?: string;
  retries?: string;
  sample?: string;
}

export const CLEAN_DEFAULTS = {
  keep: 'oldest' as KeepPolicy,
  mode: 'merge' as CleanMode,
  batchSize: 1000,
  batchRows: 10_000,
  pauseMs: 0,
  lockTimeoutMs: 5_000,
  statementTimeoutMs: 60_000,
  archiveSchema: 'lead_dedupe',
  retries: 3,
  sampleGroups: 5,
};

const CONFIG_FIELDS = ['keep', 'mode', 'mergeRules', 'batchSize', 'batchRows', 'maxGroups', 'pause', 'lockTimeout', 'statementTimeout', 'archiveSchema', 'retries'];

/**
 * Flags over `commands.clean` in the config file over the defaults. Durations
 * take ms or a unit: 500, 500ms, 5s, 2m.
 */
export function resolveCleanOptions(key: ResolvedKey, flags: CleanFlagValues, config: Record<string, unknown> = {}): CleanOptions {
  return { key, ...resolveCleanSettings(flags, config) };
}

/** Everything but the key: checked before the database is opened, so bad flags fail fast. */
export function resolveCleanSettings(flags: CleanFlagValues, config: Record<string, unknown> = {}): Omit<CleanOptions, 'key'> {
  for (const field of Object.keys(config)) {
    if (!CONFIG_FIELDS.includes(field)) throw new UsageError(`config "commands.clean.${field}" is not a clean setting; settings: ${CONFIG_FIELDS.join(', ')}`);
  }
  const pick = (flag: string | undefined, field: string): string | undefined => flag ?? (config[field] === undefined ? undefined : String(config[field]));
  const mergeRules: Record<string, MergeRule> = { ...configMergeRules(config.mergeRules), ...Object.fromEntries(flags.mergeRule.map(parseMergeRule)) };
  return {
    keep: oneOf(pick(flags.keep, 'keep'), KEEP_POLICIES, '--keep') ?? CLEAN_DEFAULTS.keep,
    mode: oneOf(pick(flags.mode, 'mode'), CLEAN_MODES, '--mode') ?? CLEAN_DEFAULTS.mode,
    mergeRules,
    batchSize: whole(pick(flags.batchSize, 'batchSize'), '--batch-size', 1) ?? CLEAN_DEFAULTS.batchSize,
    // 2 at least: a chunk of a large group is its keeper plus batchRows - 1 others.
    batchRows: whole(pick(flags.batchRows, 'batchRows'), '--batch-rows', 2) ?? CLEAN_DEFAULTS.batchRows,
    maxGroups: whole(pick(flags.maxGroups, 'maxGroups'), '--max-groups', 1) ?? null,
    pauseMs: duration(pick(flags.pause, 'pause'), '--pause') ?? CLEAN_DEFAULTS.pauseMs,
    lockTimeoutMs: duration(pick(flags.lockTimeout, 'lockTimeout'), '--lock-timeout', 1) ?? CLEAN_DEFAULTS.lockTimeoutMs,
    statementTimeoutMs: duration(pick(flags.statementTimeout, 'statementTimeout'), '--statement-timeout', 1) ?? CLEAN_DEFAULTS.statementTimeoutMs,
    archiveSchema: archiveSchema(pick(flags.archiveSchema, 'archiveSchema')),
    retries: whole(pick(flags.retries, 'retries'), '--retries', 0) ?? CLEAN_DEFAULTS.retries,
    sampleGroups: whole(flags.sample, '--sample', 0) ?? CLEAN_DEFAULTS.sampleGroups,
  };
}

export function archiveSchema(value: string | undefined): string {
  if (value === undefined) return CLEAN_DEFAULTS.archiveSchema;
  if (value.trim() === '' || value.length > 63) throw new UsageError(`--archive-schema must be 1 to 63 characters; got "${value}"`);
  return value;
}

function configMergeRules(value: unknown): Record<string, MergeRule> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError('config "commands.clean.mergeRules" must map columns to newest|oldest|keeper|longest');
  }
  return Object.fromEntries(Object.entries(value).map(([column, rule]) => parseMergeRule(`${column}=${String(rule)}`)));
}

function oneOf<T extends string>(value: string | undefined, choices: readonly T[], flag: string): T | undefined {
  if (value === undefined) return undefined;
  const found = choices.find((choice) => choice === value.trim().toLowerCase());
  if (found === undefined) throw new UsageError(`${flag} takes ${choices.join('|')}; got "${value}"`);
  return found;
}

function whole(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`${flag} takes a whole number; got "${value}"`);
  const number = Number(value);
  if (number < min) throw new UsageError(`${flag} must be at least ${min}; got ${number}`);
  return number;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

export function duration(value: string | undefined, flag: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(value.trim());
  if (!match) throw new UsageError(`${flag} takes a duration such as 500ms, 5s or 2m (a bare number is ms); got "${value}"`);
  const ms = Math.round(Number(match[1]) * UNITS[match[2] ?? 'ms']!);
  if (ms < min) throw new UsageError(`${flag} must be at least ${min} ms; got "${value}"`);
  return ms;
}
