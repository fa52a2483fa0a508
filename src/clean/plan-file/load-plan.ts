import type { Db } from '../../db/database.js';
import { firstLineOf, sqlStateOf } from '../../db/database-error.js';
import { inTransaction } from '../../db/transaction.js';
import { UsageError } from '../../errors.js';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { fingerprintSettingsStatement } from './plan-fingerprint-sql.js';
import {
  createPlanTablesStatements,
  foreignRowQuery,
  indexPlanTablesStatements,
  insertPlanChunkStatement,
  repeatedGroupQuery,
  repeatedRowQuery,
} from './plan-load-sql.js';
import type { OpenedPlan } from './read-plan.js';

/** Rows sent per INSERT (one JSON parameter each). */
const CHUNK_ROWS = 10_000;

export interface LoadedPlan {
  groups: number;
  rows: number;
  /** Groups the plan lists as skipped at planning (child conflicts): informational, nothing is done with them. */
  skippedAtPlanning: number;
  /** Groups whose review status is "needs review" or "rejected": not loaded, left untouched. */
  notAccepted: number;
  /** sha256 of the plan's lines as read. */
  digest: string;
  /** The digest differs from the header's and from the one `review` recorded: the plan was edited by hand. */
  edited: boolean;
  /** The lines are as `review` left them (its statuses changed since the plan was written). */
  reviewed: boolean;
}

interface GroupRecord {
  group_no: number;
  line_no: number;
  group_id: string;
  key_values: unknown[];
  keeper_id: string;
  /** The group carries a review status: its rows need not share the key. */
  reviewed: boolean;
}

interface RowRecord {
  group_no: number;
  line_no: number;
  row_id: string;
  keeper: boolean;
  fingerprint: string;
}

/**
 * Reads the plan to its end into the session's temp tables (plan-load-sql.ts),
 * in chunks, then checks what needs the database: no group or id listed twice,
 * and no unchanged row placed in a group whose key it does not carry. Any
 * problem is a UsageError naming the line; nothing has changed by then.
 */
export async function loadPlan(connection: Db, key: ResolvedKey, plan: OpenedPlan): Promise<LoadedPlan> {
  for (const statement of createPlanTablesStatements(key.table)) await statement.execute(connection);
  const columns = key.columns.map((c) => c.column);
  let groups: GroupRecord[] = [];
  let rows: RowRecord[] = [];
  const counts = { groups: 0, rows: 0, skipped: 0, notAccepted: 0 };
  const flush = async () => {
    if (groups.length > 0) await insertChunk(connection, 'groups', groups, plan.path);
    if (rows.length > 0) await insertChunk(connection, 'rows', rows, plan.path);
    groups = [];
    rows = [];
  };
  for await (const { line, entry } of plan.lines()) {
    if (entry.type === 'skipped') counts.skipped++;
    if (entry.type !== 'group') continue;
    if (entry.review !== undefined && entry.review !== 'accepted') {
      counts.notAccepted++;
      continue;
    }
    const groupNo = ++counts.groups;
    groups.push({
      group_no: groupNo,
      line_no: line,
      group_id: entry.group,
      key_values: columns.map((c) => entry.key[c] ?? null),
      keeper_id: entry.keep,
      reviewed: entry.review !== undefined,
    });
    for (const id of [entry.keep, ...entry.remove]) {
      rows.push({ group_no: groupNo, line_no: line, row_id: id, keeper: id === entry.keep, fingerprint: entry.fingerprints[id]! });
    }
    counts.rows += 1 + entry.remove.length;
    if (rows.length >= CHUNK_ROWS) await flush();
  }
  await flush();
  for (const statement of indexPlanTablesStatements()) await statement.execute(connection);
  await refuseInconsistencies(connection, key, plan.path);
  const digest = plan.digest();
  return {
    groups: counts.groups,
    rows: counts.rows,
    skippedAtPlanning: counts.skipped,
    notAccepted: counts.notAccepted,
    digest,
    edited: digest !== plan.header.digest && digest !== plan.header.reviewed?.digest,
    reviewed: digest !== plan.header.digest && digest === plan.header.reviewed?.digest,
  };
}

async function insertChunk(connection: Db, target: 'groups' | 'rows', records: (GroupRecord | RowRecord)[], path: string): Promise<void> {
  try {
    await insertPlanChunkStatement(target, JSON.stringify(records)).execute(connection);
  } catch (error) {
    // an id the id column's type does not take (22P02 syntax, 22003 out of range…)
    if (!sqlStateOf(error)?.startsWith('22')) throw error;
    const first = records[0]!.line_no;
    const last = records[records.length - 1]!.line_no;
    throw new UsageError(`plan ${path} lines ${first}-${last}: an id does not fit the id column: ${firstLineOf(error)}; nothing was changed`);
  }
}

async function refuseInconsistencies(connection: Db, key: ResolvedKey, path: string): Promise<void> {
  const group = (await repeatedGroupQuery().execute(connection)).rows[0];
  if (group !== undefined) {
    throw new UsageError(`plan ${path} line ${group.lines[1]}: group ${group.group_id} is listed again (first at line ${group.lines[0]}); nothing was changed`);
  }
  const row = (await repeatedRowQuery().execute(connection)).rows[0];
  if (row !== undefined) {
    throw new UsageError(
      `plan ${path} line ${row.lines[1]}: id ${row.id} is also in the group of line ${row.lines[0]}; an id belongs to one group; nothing was changed`,
    );
  }
  const foreign = await inTransaction(connection, async () => {
    await fingerprintSettingsStatement().execute(connection);
    return (await foreignRowQuery(key).execute(connection)).rows[0];
  });
  if (foreign !== undefined) {
    throw new UsageError(
      `plan ${path} line ${foreign.line_no}: id ${foreign.id} does not carry the key of group ${foreign.group_id} (the row is unchanged since the plan, so the plan was edited); nothing was changed`,
    );
  }
}
