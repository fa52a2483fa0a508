import type { Database } from '../../db/database.js';
import type { PartitionNode } from '../../db/partitions.js';
import { findNameOwner } from '../../db/unique-indexes.js';
import { UsageError } from '../../errors.js';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { attachPartitionIndexStatement, createPartitionIndexStatement, dropIndexStatement, indexNameFor } from '../../sql/constraint-plan.js';
import { planStatement, type PlannedStatement } from './sql-step.js';

/** The index `constraint add` makes on one partition (leaf or sub-partitioned) of a partitioned table. */
export interface PartitionIndex {
  schema: string;
  table: string;
  index: string;
  /** A sub-partitioned partition: its index is made ON ONLY and cannot be built or dropped CONCURRENTLY. */
  partitioned: boolean;
  /** An invalid index by this name on this partition, left by an earlier failed or interrupted build: dropped first. */
  leftover: boolean;
}

/**
 * PostgreSQL refuses a unique index on a partitioned table unless it holds
 * every partition key column, as a plain column (it is then unique within
 * each partition, hence everywhere). Checked at every level of a
 * multi-level tree, before anything is built.
 */
export function checkPartitionKey(key: ResolvedKey, tree: PartitionNode[]): void {
  const plain = new Set(key.columns.filter((column) => column.normalize === null).map((column) => column.column));
  const normalised = new Set(key.columns.filter((column) => column.normalize !== null).map((column) => column.column));
  for (const node of tree) {
    if (node.relkind === 'f') {
      throw new UsageError(`partition ${node.schema}.${node.name} is a foreign table, which cannot hold an index; a unique index cannot cover the whole table`);
    }
    if (node.relkind !== 'p') continue;
    const where =
      node.parentOid === null
        ? `${node.schema}.${node.name} is partitioned by ${node.keyDefinition}`
        : `its partition ${node.schema}.${node.name} is partitioned by ${node.keyDefinition}`;
    if (node.keyColumns.some((column) => column === null)) {
      throw new UsageError(`${where}, an expression: PostgreSQL allows no unique index on a table partitioned by an expression`);
    }
    const missing = node.keyColumns.filter((column): column is string => column !== null && !plain.has(column));
    if (missing.length > 0) {
      const why = missing.some((column) => normalised.has(column)) ? ' (as plain columns: a normalised partition column does not count)' : '';
      const columns = [...key.columns.map((column) => column.column).filter((column) => !missing.includes(column)), ...missing];
      throw new UsageError(
        `${where}: a unique index on a partitioned table must contain the partition key${why}; key ${key.name} lacks ${missing.join(', ')} (e.g. --key ${columns.join(',')})`,
      );
    }
  }
}

/** Each partition's index name, checked against the catalog like the parent's. */
export async function planPartitionIndexes(database: Database, key: ResolvedKey, tree: PartitionNode[]): Promise<PartitionIndex[]> {
  const indexes: PartitionIndex[] = [];
  for (const node of tree.filter((n) => n.parentOid !== null)) {
    const index = indexNameFor(node.name, key);
    const owner = await findNameOwner(database.db, node.schema, index, node.oid);
    const leftover = owner !== null && owner.kind === 'index' && owner.onTable === `${node.schema}.${node.name}` && owner.valid === false;
    if (owner !== null && !leftover) {
      throw new UsageError(
        `the name "${index}" for the index on partition ${node.schema}.${node.name} already belongs to a ${owner.kind}${owner.onTable ? ` on ${owner.onTable}` : ''}; drop or rename it, or choose another --name`,
      );
    }
    indexes.push({ schema: node.schema, table: node.name, index, partitioned: node.relkind === 'p', leftover });
  }
  return indexes;
}

/**
 * The build, in order: the parent's index ON ONLY; then, depth first, each
 * partition's index (CONCURRENTLY on a leaf, ON ONLY on a sub-partitioned
 * one, whose own partitions follow) attached to its parent's index as soon
 * as it is complete, so a sub-partition's index is valid before it is attached.
 */
export function partitionedBuildStatements(
  database: Database,
  key: ResolvedKey,
  name: string,
  tree: PartitionNode[],
  indexes: PartitionIndex[],
): PlannedStatement[] {
  const compile = (query: Parameters<typeof planStatement>[1]) => planStatement(database, query);
  const root = tree.find((node) => node.parentOid === null)!;
  const indexOf = (node: PartitionNode) => (node === root ? name : indexes.find((i) => i.schema === node.schema && i.table === node.name)!.index);
  const subtree = (node: PartitionNode): PlannedStatement[] => {
    if (node.relkind !== 'p') return [compile(createPartitionIndexStatement(key, indexOf(node), node, { only: false, concurrently: true }))];
    const statements = [compile(createPartitionIndexStatement(key, indexOf(node), node, { only: true, concurrently: false }))];
    for (const child of tree.filter((n) => n.parentOid === node.oid)) {
      statements.push(...subtree(child), compile(attachPartitionIndexStatement(node.schema, indexOf(node), child.schema, indexOf(child))));
    }
    return statements;
  };
  return subtree(root);
}

/** DROP INDEX for each partition's index; a sub-partitioned one cannot be dropped CONCURRENTLY. */
export function dropPartitionIndexStatements(database: Database, indexes: PartitionIndex[]): PlannedStatement[] {
  return indexes.map((index) => planStatement(database, dropIndexStatement(index.schema, index.index, { concurrently: !index.partitioned })));
}
