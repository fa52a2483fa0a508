import type { ColumnInfo } from '../../db/catalog.js';
import { requireColumn } from '../../db/catalog.js';
import { UsageError } from '../../errors.js';
import type { ResolvedKey } from '../../keys/key-definition.js';
import type { PolicyAction, RetryPolicy, UpsertOutcome } from '../../sql/upsert-plan.js';

/** What policyAction needs of sql upsert's options. */
export interface PolicyOptions {
  onDuplicate: RetryPolicy;
  updateColumns?: string[];
  touchColumns?: string[];
  newerColumn?: string;
}

const TIMESTAMP_TYPES = /^(timestamp|date)\b/;
const COUNTER_TYPES = /^(smallint|integer|bigint|numeric)\b/;

export function outcomesOf(policy: RetryPolicy): UpsertOutcome[] {
  if (policy === 'skip') return ['inserted', 'existed'];
  if (policy === 'touch') return ['inserted', 'updated'];
  return ['inserted', 'updated', 'existed'];
}

export function changedColumns(action: PolicyAction): string[] {
  switch (action.policy) {
    case 'skip':
      return [];
    case 'fill':
    case 'overwrite':
      return action.columns;
    case 'touch':
      return [...action.timestamps.map((t) => t.column), ...action.counters];
    case 'newer':
      return [action.column, ...action.columns];
    default:
      return action satisfies never;
  }
}

/** The policy's columns, checked against the catalog: they exist, have the right type and are not the key or the id. */
export function policyAction(key: ResolvedKey, options: PolicyOptions, insertColumns: string[]): PolicyAction {
  const policy = options.onDuplicate;
  const keyColumns = key.columns.map((c) => c.column);
  if (options.touchColumns !== undefined && policy !== 'touch') throw new UsageError(`--touch applies to --on-duplicate touch only (not ${policy})`);
  if (options.newerColumn !== undefined && policy !== 'newer') throw new UsageError(`--newer-column applies to --on-duplicate newer only (not ${policy})`);
  if (options.updateColumns !== undefined && (policy === 'skip' || policy === 'touch')) {
    throw new UsageError(`--update-columns applies to fill, overwrite and newer (${policy} changes no values)`);
  }
  const notKeyOrId = (columns: string[], flag: string) => {
    const refused = columns.filter((column) => keyColumns.includes(column) || column === key.table.idColumn);
    if (refused.length > 0) throw new UsageError(`${flag} cannot change the key or the id: ${refused.join(', ')}`);
  };
  const values = (exclude: string[]) => {
    const fixed = new Set([...keyColumns, key.table.idColumn, ...(key.table.createdColumn === null ? [] : [key.table.createdColumn]), ...exclude]);
    const columns = options.updateColumns
      ? checkColumns(key, options.updateColumns, '--update-columns').map((c) => c.name)
      : insertColumns.filter((column) => !fixed.has(column));
    notKeyOrId(columns, '--update-columns');
    const notInserted = columns.filter((column) => !insertColumns.includes(column));
    if (notInserted.length > 0)
      throw new UsageError(`--update-columns must be inserted too (excluded.<column> holds only inserted values): ${notInserted.join(', ')}`);
    if (columns.length === 0) throw new UsageError(`nothing for ${policy} to update: every inserted column is part of the key; use --on-duplicate skip`);
    return columns;
  };
  switch (policy) {
    case 'skip':
      return { policy };
    case 'fill':
    case 'overwrite':
      return { policy, columns: values([]) };
    case 'touch': {
      if (options.touchColumns === undefined)
        throw new UsageError(
          '--on-duplicate touch needs --touch <columns>: timestamp columns (set to now()) and integer counters (+1), e.g. --touch last_seen_at,submit_count',
        );
      const columns = checkColumns(key, options.touchColumns, '--touch');
      notKeyOrId(
        columns.map((c) => c.name),
        '--touch',
      );
      const timestamps = columns.filter((c) => TIMESTAMP_TYPES.test(c.type));
      const counters = columns.filter((c) => COUNTER_TYPES.test(c.type));
      const wrong = columns.filter((c) => !timestamps.includes(c) && !counters.includes(c));
      if (wrong.length > 0) {
        throw new UsageError(
          `--touch: ${wrong.map((c) => `${c.name} is ${c.type}`).join(', ')}; touch takes timestamp columns (set to now()) and integer counters (+1)`,
        );
      }
      return {
        policy,
        timestamps: timestamps.map((c) => ({ column: c.name, inserted: insertColumns.includes(c.name) })),
        counters: counters.map((c) => c.name),
      };
    }
    case 'newer': {
      if (options.newerColumn === undefined)
        throw new UsageError(
          '--on-duplicate newer needs --newer-column <timestamp column>, e.g. --newer-column submitted_at (the retry wins only when it is later)',
        );
      const column = requireColumn(key.table.info, options.newerColumn, '--newer-column: column');
      if (!TIMESTAMP_TYPES.test(column.type))
        throw new UsageError(`--newer-column: ${column.name} is ${column.type}; newer compares a timestamp or date column`);
      notKeyOrId([column.name], '--newer-column');
      if (!insertColumns.includes(column.name)) throw new UsageError(`--newer-column ${column.name} must be inserted too (add it to --insert-columns)`);
      return { policy, column: column.name, columns: values([column.name]) };
    }
    default:
      return policy satisfies never;
  }
}

export function checkColumns(key: ResolvedKey, columns: string[], flag: string): ColumnInfo[] {
  if (columns.length === 0) throw new UsageError(`${flag} needs at least one column`);
  if (new Set(columns).size !== columns.length) throw new UsageError(`${flag} names a column twice`);
  return columns.map((column) => requireColumn(key.table.info, column, `${flag}: column`));
}
