import type { Database } from '../../../db/database.js';
import { toNumber } from '../../../db/database.js';
import { forEachBatch } from '../../../db/cursor.js';
import { describeNormalize } from '../../../keys/key-summary.js';
import { planExportQuery, type PlanExportRow } from '../../../sql/clean/plan-export.js';
import { fingerprintSettingsStatement } from '../../../sql/clean/plan-fingerprint.js';
import packageJson from '../../../../package.json' with { type: 'json' };
import { loadCleanContext } from '../clean-context.js';
import type { ChildReference, CleanOptions } from '../clean-types.js';
import { describeKeeperOrder } from '../keeper-order.js';
import { PLAN_FORMAT, PLAN_FORMAT_VERSION, type PlanBodyLine, type PlanGroupLine, type PlanHeader } from './plan-format.js';
import { readDatabaseIdentity } from './plan-identity.js';

/** Groups fetched per round trip from the plan's cursor. */
const FETCH_GROUPS = 1000;

/** How a child foreign key is named in a plan: schema.table.column. */
export function childName(reference: Pick<ChildReference, 'schema' | 'table' | 'column'>): string {
  return `${reference.schema}.${reference.table}.${reference.column}`;
}

/**
 * Streams the complete plan of a clean-up (the dry run's groups, keepers,
 * merge donors, child rows and skips, with every row's fingerprint) line by
 * line into `onLine`, from one snapshot; returns the header, its totals
 * counted from the lines themselves, without the digest (the caller hashes
 * the lines as it writes them).
 */
export async function exportPlan(
  database: Database,
  options: CleanOptions,
  onLine: (line: PlanBodyLine) => Promise<void>,
): Promise<Omit<PlanHeader, 'digest'>> {
  const createdAt = new Date().toISOString();
  const context = await loadCleanContext(database, options);
  const { key } = options;
  const identity = await readDatabaseIdentity(database.db);
  const totals = { groups: 0, rowsToRemove: 0, skippedGroups: 0, childRows: Object.fromEntries(context.references.map((r) => [childName(r), 0])) };
  const query = planExportQuery({
    key,
    keep: options.keep,
    batchSize: options.batchSize,
    batchRows: options.batchRows,
    maxGroups: options.maxGroups,
    references: context.references,
    mergeColumns: context.mergeColumns,
  });
  let lines = 0;
  await forEachBatch(
    database.db,
    query,
    FETCH_GROUPS,
    async (rows) => {
      for (const row of rows) {
        if (row.kind === 'skipped') {
          totals.skippedGroups++;
          await onLine({ type: 'skipped', group: row.group_id, reason: row.reason ?? '' });
        } else {
          const group = groupLine(
            row,
            key.columns.map((c) => c.column),
            context.references,
          );
          totals.groups++;
          totals.rowsToRemove += group.remove.length;
          for (const [child, n] of Object.entries(group.children ?? {})) totals.childRows[child] = (totals.childRows[child] ?? 0) + n;
          await onLine(group);
        }
        lines++;
      }
    },
    [fingerprintSettingsStatement()],
  );
  for (const reference of context.references) {
    await onLine({
      type: 'children',
      table: `${reference.schema}.${reference.table}`,
      column: reference.column,
      constraint: reference.constraint,
      rows: totals.childRows[childName(reference)] ?? 0,
    });
    lines++;
  }
  await onLine({ type: 'end', lines });
  return {
    type: 'header',
    format: PLAN_FORMAT,
    formatVersion: PLAN_FORMAT_VERSION,
    toolVersion: packageJson.version,
    createdAt,
    database: identity,
    table: { schema: key.table.info.schema, name: key.table.info.name, idColumn: key.table.idColumn, createdColumn: key.table.createdColumn },
    key: {
      name: key.name,
      columns: key.columns.map((c) => c.column),
      normalize: describeNormalize(key),
      nullsEqual: key.nullsEqual,
      defaultCountry: key.defaultCountry,
    },
    keep: options.keep,
    keeperOrder: describeKeeperOrder(options.keep, key.table),
    mode: options.mode,
    mergeRules: options.mergeRules,
    mergeColumns: context.mergeColumns.map((c) => `${c.name}=${c.rule}`),
    batchSize: options.batchSize,
    batchRows: options.batchRows,
    totals,
  };
}

function groupLine(row: PlanExportRow, columns: string[], references: ChildReference[]): PlanGroupLine {
  const ids = row.ids ?? [];
  const fingerprints = row.fingerprints ?? [];
  const line: PlanGroupLine = {
    type: 'group',
    group: row.group_id,
    key: Object.fromEntries(columns.map((column, index) => [column, row.key_values?.[index] ?? null])),
    keep: row.keeper ?? '',
    remove: ids.filter((id) => id !== row.keeper),
    fingerprints: Object.fromEntries(ids.map((id, index) => [id, fingerprints[index] ?? ''])),
  };
  if (row.merge !== null && Object.keys(row.merge).length > 0) line.merge = row.merge;
  const children = Object.fromEntries(
    references.map((reference, index) => [childName(reference), toNumber(row.children?.[index])] as const).filter(([, n]) => n > 0),
  );
  if (Object.keys(children).length > 0) line.children = children;
  return line;
}
