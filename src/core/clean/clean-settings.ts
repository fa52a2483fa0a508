import { UsageError } from '../../errors.js';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { CLEAN_MODES, KEEP_POLICIES, type CleanMode, type CleanOptions, type KeepPolicy, type MergeRule } from './clean-types.js';
import { parseMergeRule } from './merge-columns.js';
import { optionalDuration } from '../inputs/duration.js';
import { optionalWholeNumber, parseWholeNumber, WHOLE_RANGES } from '../inputs/whole-number.js';

/** clean's flags as commander hands them over (strings; undefined when not given). */
export interface CleanFlagValues {
  keep?: string;
  mode?: string;
  mergeRule?: string[];
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
 * Flags over `commands.clean` in the config file over the defaults. Numbers
 * and durations go through the CLI's one parser of each (core/inputs), with
 * the same ranges whether they come from a flag or the file.
 */
export function resolveCleanOptions(key: ResolvedKey, flags: CleanFlagValues, config: Record<string, unknown> = {}): CleanOptions {
  return { key, ...resolveCleanSettings(flags, config) };
}

/** Everything but the key: checked before the database is opened, so bad flags fail fast. */
export function resolveCleanSettings(
  flags: CleanFlagValues,
  config: Record<string, unknown> = {},
  source: (flag: string) => string = (flag) => flag,
): Omit<CleanOptions, 'key'> {
  for (const field of Object.keys(config)) {
    if (!CONFIG_FIELDS.includes(field)) throw new UsageError(`config "commands.clean.${field}" is not a clean setting; settings: ${CONFIG_FIELDS.join(', ')}`);
  }
  /** The flag's value, else the config's (named as such in errors), else undefined. */
  const pick = (flag: string | undefined, flagName: string, field: string): [unknown, string] =>
    flag !== undefined ? [flag, source(flagName)] : [config[field], `config "commands.clean.${field}"`];
  const text = (value: unknown): string | undefined => (value === undefined ? undefined : String(value));
  const mergeRules: Record<string, MergeRule> = { ...configMergeRules(config.mergeRules), ...Object.fromEntries((flags.mergeRule ?? []).map(parseMergeRule)) };
  const maxGroups = pick(flags.maxGroups, '--max-groups', 'maxGroups');
  return {
    keep: oneOf(text(pick(flags.keep, '--keep', 'keep')[0]), KEEP_POLICIES, '--keep') ?? CLEAN_DEFAULTS.keep,
    mode: oneOf(text(pick(flags.mode, '--mode', 'mode')[0]), CLEAN_MODES, '--mode') ?? CLEAN_DEFAULTS.mode,
    mergeRules,
    batchSize: optionalWholeNumber(...pick(flags.batchSize, '--batch-size', 'batchSize'), WHOLE_RANGES.batchSize, CLEAN_DEFAULTS.batchSize),
    batchRows: optionalWholeNumber(...pick(flags.batchRows, '--batch-rows', 'batchRows'), WHOLE_RANGES.batchRows, CLEAN_DEFAULTS.batchRows),
    maxGroups: maxGroups[0] === undefined ? null : parseWholeNumber(...maxGroups, WHOLE_RANGES.maxGroups),
    pauseMs: optionalDuration(...pick(flags.pause, '--pause', 'pause'), 0, CLEAN_DEFAULTS.pauseMs),
    lockTimeoutMs: optionalDuration(...pick(flags.lockTimeout, '--lock-timeout', 'lockTimeout'), 1, CLEAN_DEFAULTS.lockTimeoutMs),
    statementTimeoutMs: optionalDuration(...pick(flags.statementTimeout, '--statement-timeout', 'statementTimeout'), 1, CLEAN_DEFAULTS.statementTimeoutMs),
    archiveSchema: archiveSchema(text(pick(flags.archiveSchema, '--archive-schema', 'archiveSchema')[0])),
    retries: optionalWholeNumber(...pick(flags.retries, '--retries', 'retries'), WHOLE_RANGES.retries, CLEAN_DEFAULTS.retries),
    sampleGroups: optionalWholeNumber(flags.sample, '--sample', WHOLE_RANGES.sample, CLEAN_DEFAULTS.sampleGroups),
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
