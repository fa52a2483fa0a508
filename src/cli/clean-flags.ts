import { Option } from '@commander-js/extra-typings';
import { UsageError } from '../errors.js';
import type { ResolvedKey } from '../keys/key-definition.js';
import { CLEAN_DEFAULTS } from '../clean/defaults.js';
import { CLEAN_MODES, KEEP_POLICIES, MERGE_RULES, type CleanOptions, type MergeRule } from '../clean/types.js';
import { optionalDuration } from './parse/duration.js';
import type { PlanHeader } from '../clean/plan-file/plan-format.js';
import { parseNameValue } from './parse/name-value.js';
import { optionalWholeNumber, parseWholeNumber, WHOLE_RANGES } from './parse/whole-number.js';
import { archiveOption, archiveSchema, collect, timeoutOptions } from './options.js';
import type { FlagsOf } from './flags-of.js';

/** What clean keeps and how it fills the keeper. */
export function cleanPolicyOptions() {
  return [
    new Option('--keep <policy>', 'row kept per group: oldest, newest, most-complete (default: oldest)').choices(KEEP_POLICIES),
    new Option('--mode <mode>', "merge: fill the keeper's empty columns first; delete: keep it as is (default: merge)").choices(CLEAN_MODES),
    new Option('--merge-rule <column=rule>', 'donor per column: newest, oldest, keeper (never fill), longest (repeatable)').argParser(collect),
  ] as const;
}

/** How clean's batches run: their size, count, pace, limits, retries and archive. */
export function cleanBatchOptions() {
  return [
    new Option('--batch-size <groups>', 'groups per transaction (default: 1000)'),
    new Option('--batch-rows <rows>', 'rows per transaction, the row locks it holds; a larger group is removed in chunks (default: 10000)'),
    new Option('--max-groups <n>', 'clean at most this many groups in this run'),
    new Option('--pause <duration>', 'pause between batches, e.g. 200ms (default: 0)'),
    ...timeoutOptions(),
    new Option('--retries <n>', 'retries of a timed-out batch, with backoff, before the run stops (default: 3)'),
    archiveOption('schema of the archive and run log, created on first use (default: lead_dedupe)'),
  ] as const;
}

/** The dry run's sample and the reviewable plan file: write one, or apply one. */
export function cleanPlanOptions() {
  return [
    new Option('--sample <n>', 'groups shown in the dry run (default: 5)'),
    new Option('--plan-out <file>', 'dry run: also write the complete plan (JSON Lines) to review, edit and apply with --plan'),
    new Option(
      '--plan-csv <file.csv>',
      'dry run: also write one CSV line per planned row (group, key, id, keep/remove, key and created as stored, merged columns)',
    ),
    new Option('--redact', 'mask the customer values in --plan-csv (equal values keep equal tags); see docs/privacy.md'),
    new Option('--plan <file>', 'check a plan written by --plan-out against the data now; with --execute apply it, skipping groups changed since'),
    new Option('--max-plan-age <duration>', 'with --plan: refuse a plan older than this, e.g. 36h or 14d (default: 7d)'),
  ] as const;
}

/** clean's own flags as commander hands them over (strings; undefined when not given), derived from their declarations. */
export type CleanFlagValues = FlagsOf<
  [...ReturnType<typeof cleanPolicyOptions>, ...ReturnType<typeof cleanBatchOptions>, ...ReturnType<typeof cleanPlanOptions>]
>;

/** The core's options for a key, from clean's flags (the library and the tests use it as the CLI does). */
export function resolveCleanOptions(key: ResolvedKey, flags: CleanFlagValues, mergeRulesSetting?: unknown): CleanOptions {
  return { key, ...resolveCleanSettings(flags, mergeRulesSetting) };
}

/**
 * Everything but the key, checked before the database is opened so bad flags fail fast. The
 * config file's `commands.clean` has already filled the flags the command line left unset
 * (program/program.ts); `source` names a value in an error the way the user gave it. The one
 * setting that is not a flag is `mergeRules`, a map column → rule beside `--merge-rule`.
 */
export function resolveCleanSettings(
  flags: CleanFlagValues,
  mergeRulesSetting?: unknown,
  source: (flag: string) => string = (flag) => flag,
): Omit<CleanOptions, 'key'> {
  return {
    keep: oneOf(flags.keep, KEEP_POLICIES, source('--keep')) ?? CLEAN_DEFAULTS.keep,
    mode: oneOf(flags.mode, CLEAN_MODES, source('--mode')) ?? CLEAN_DEFAULTS.mode,
    mergeRules: {
      ...configMergeRules(mergeRulesSetting),
      ...Object.fromEntries((flags.mergeRule ?? []).map((text) => parseMergeRule(text, source('--merge-rule')))),
    },
    batchSize: optionalWholeNumber(flags.batchSize, source('--batch-size'), WHOLE_RANGES.batchSize, CLEAN_DEFAULTS.batchSize),
    batchRows: optionalWholeNumber(flags.batchRows, source('--batch-rows'), WHOLE_RANGES.batchRows, CLEAN_DEFAULTS.batchRows),
    maxGroups: flags.maxGroups === undefined ? null : parseWholeNumber(flags.maxGroups, source('--max-groups'), WHOLE_RANGES.maxGroups),
    pauseMs: optionalDuration(flags.pause, source('--pause'), 0, CLEAN_DEFAULTS.pauseMs),
    lockTimeoutMs: optionalDuration(flags.lockTimeout, source('--lock-timeout'), 1, CLEAN_DEFAULTS.lockTimeoutMs),
    statementTimeoutMs: optionalDuration(flags.statementTimeout, source('--statement-timeout'), 1, CLEAN_DEFAULTS.statementTimeoutMs),
    archiveSchema: archiveSchema(flags.archiveSchema),
    retries: optionalWholeNumber(flags.retries, source('--retries'), WHOLE_RANGES.retries, CLEAN_DEFAULTS.retries),
    sampleGroups: optionalWholeNumber(flags.sample, source('--sample'), WHOLE_RANGES.sample, CLEAN_DEFAULTS.sampleGroups),
  };
}

/** `email=newest`: the donor rule of one column. */
export function parseMergeRule(text: string, flag = '--merge-rule'): [column: string, rule: MergeRule] {
  const form = `<column>=${MERGE_RULES.join('|')}, e.g. email=newest`;
  const [column, value] = parseNameValue(text, flag, form);
  const rule = MERGE_RULES.find((candidate) => candidate === value.toLowerCase());
  if (rule === undefined) throw new UsageError(`${flag} takes ${form}; got "${text}"`);
  return [column, rule];
}

function configMergeRules(value: unknown): Record<string, MergeRule> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`config "commands.clean.mergeRules" must map columns to ${MERGE_RULES.join('|')}`);
  }
  return Object.fromEntries(
    Object.entries(value).map(([column, rule]) => parseMergeRule(`${column}=${String(rule)}`, `config "commands.clean.mergeRules.${column}"`)),
  );
}

function oneOf<T extends string>(value: string | undefined, choices: readonly T[], flag: string): T | undefined {
  if (value === undefined) return undefined;
  const found = choices.find((choice) => choice === value.trim().toLowerCase());
  if (found === undefined) throw new UsageError(`${flag} takes ${choices.join('|')}; got "${value}"`);
  return found;
}

/** --max-plan-age: at most ten years, whatever the config says. */
const MAX_PLAN_AGE_MS = 10 * 365 * 86_400_000;

/** The plan flags: write one (dry run), or apply one; checked before the database is opened. */
export interface PlanFlags {
  planOut?: string;
  planCsv?: string;
  /** --redact: the CSV's customer values masked (docs/privacy.md); the plan file keeps them, it is applied. */
  redact: boolean;
  plan?: string;
  maxPlanAgeMs: number;
  /** As given, for messages: "7d". */
  maxPlanAge: string;
}

export function resolvePlanFlags(flags: CleanFlagValues & { execute?: boolean }, source: (flag: string) => string = (flag) => flag): PlanFlags {
  const writes = flags.planOut !== undefined || flags.planCsv !== undefined;
  if (writes && flags.plan !== undefined) throw new UsageError('--plan applies a plan; --plan-out and --plan-csv write one: not both in one run');
  if (writes && flags.execute) {
    throw new UsageError('--plan-out and --plan-csv write the plan of a dry run; review it, then apply it with --plan <file> --execute');
  }
  if (flags.redact && flags.planCsv === undefined) {
    throw new UsageError('--redact masks the customer values of --plan-csv; a plan file (--plan-out) is applied against the table and keeps them');
  }
  if (flags.planOut !== undefined && /\.csv$/i.test(flags.planOut)) {
    throw new UsageError(`--plan-out writes JSON Lines (the plan --plan applies); for the spreadsheet view use --plan-csv ${flags.planOut}`);
  }
  // a config file may set maxPlanAge for every clean; typed without --plan it is a mistake
  if (flags.maxPlanAge !== undefined && flags.plan === undefined && source('--max-plan-age') === '--max-plan-age') {
    throw new UsageError('--max-plan-age needs --plan <file>');
  }
  if (flags.plan !== undefined && flags.maxGroups !== undefined) {
    throw new UsageError('--max-groups does not apply to --plan: delete the groups you want left alone from the plan instead');
  }
  const maxPlanAge = flags.maxPlanAge ?? '7d';
  return {
    planOut: flags.planOut,
    planCsv: flags.planCsv,
    redact: flags.redact ?? false,
    plan: flags.plan,
    maxPlanAgeMs: optionalDuration(flags.maxPlanAge, source('--max-plan-age'), 1, 7 * 86_400_000, MAX_PLAN_AGE_MS),
    maxPlanAge,
  };
}

/**
 * Applying a plan: what to do is the plan's (keep, mode, merge rules), how
 * to run it is the command line's (timeouts, pause, archive; batch sizes
 * default to the plan's). A --keep, --mode or --merge-rule that says
 * otherwise than the plan is refused rather than silently ignored.
 */
export function planCleanSettings(
  header: PlanHeader,
  flags: CleanFlagValues,
  settings: Omit<CleanOptions, 'key'>,
  source: (flag: string) => string = (flag) => flag,
): Omit<CleanOptions, 'key'> {
  if (flags.keep !== undefined && settings.keep !== header.keep) {
    throw new UsageError(
      `${source('--keep')} ${settings.keep} differs from the plan's keep ${header.keep}; the plan decides (move a keeper in the plan instead)`,
    );
  }
  if (flags.mode !== undefined && settings.mode !== header.mode) {
    throw new UsageError(`${source('--mode')} ${settings.mode} differs from the plan's mode ${header.mode}; the plan decides`);
  }
  if ((flags.mergeRule ?? []).length > 0 && JSON.stringify(sortedRules(settings.mergeRules)) !== JSON.stringify(sortedRules(header.mergeRules))) {
    throw new UsageError(`${source('--merge-rule')} differs from the plan's merge rules ${JSON.stringify(header.mergeRules)}; the plan decides`);
  }
  return {
    ...settings,
    keep: header.keep,
    mode: header.mode,
    mergeRules: header.mergeRules,
    batchSize: flags.batchSize === undefined ? header.batchSize : settings.batchSize,
    batchRows: flags.batchRows === undefined ? header.batchRows : settings.batchRows,
  };
}

function sortedRules(rules: Record<string, MergeRule>): [string, MergeRule][] {
  return Object.entries(rules).sort(([a], [b]) => a.localeCompare(b));
}
