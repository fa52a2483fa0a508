import { UsageError } from '../errors.js';
import type { ResolvedKey } from '../keys/key-definition.js';
import type { MergeColumn } from './sql/merge-sql.js';
import type { MergeRule } from './types.js';
import { isTextColumn, type ColumnInfo } from '../db/catalog.js';
import { mergeableColumns } from './table-columns.js';

/**
 * The columns merge fills and the rule for each: `newest` unless a
 * --merge-rule says otherwise; `keeper` leaves a column out. A rule for a
 * column merge may never touch (id, created time, key) is a usage error.
 */
export function resolveMergeColumns(key: ResolvedKey, columns: ColumnInfo[], rules: Record<string, MergeRule>, selfReferences: string[] = []): MergeColumn[] {
  // A keeper's reference to the leads table itself is never filled from a copy: the copy's parent may be a row this clean removes or re-points (even the keeper).
  const eligible = mergeableColumns(key, columns).filter((c) => !selfReferences.includes(c.name));
  for (const column of Object.keys(rules)) {
    if (!columns.some((c) => c.name === column)) {
      throw new UsageError(`--merge-rule names "${column}", which ${key.table.info.name} does not have; columns: ${columns.map((c) => c.name).join(', ')}`);
    }
    if (!eligible.some((c) => c.name === column)) {
      const why = selfReferences.includes(column)
        ? `${column} references ${key.table.info.name} itself`
        : 'merge never changes the id, the created time, key columns, identity, generated or array columns';
      throw new UsageError(`--merge-rule ${column}: ${why}`);
    }
  }
  const result: MergeColumn[] = [];
  for (const column of eligible) {
    const rule = rules[column.name] ?? 'newest';
    if (rule === 'keeper') continue;
    result.push({ name: column.name, isText: isTextColumn(column), rule });
  }
  return result;
}
