import { sql, type RawBuilder } from 'kysely';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { columnRef, tableRef } from '../../keys/key-sql.js';
import { sessionRows, TEMP } from './temp-tables-sql.js';
import type { BatchScope } from '../model.js';
import { WHOLE_BATCH } from './shard-pin-sql.js';

/** Per batch: the delete, and what the batch did (counts, skipped groups, the dry run's sample). */

/** The delete itself, on the materialised victim ids. */
export function deleteVictimsStatement(key: ResolvedKey, scope: BatchScope = WHOLE_BATCH): RawBuilder<unknown> {
  return sql`delete from ${tableRef(key.table)} as l
using ${sessionRows(TEMP.members)} as m
where ${columnRef(key.table.idColumn, 'l')} = m.row_id and m.rank_in_group > 1${scope.leads('l')}`;
}

/** A large group counts once, in the batch of its first chunk; `locked` is every row the batch locked (or read). */
export function batchCountsQuery(): RawBuilder<{ groups: string | number; victims: string | number; locked: string | number }> {
  return sql`select count(distinct group_id) filter (where chunk_state is distinct from 'continued') as groups,
       count(*) filter (where rank_in_group > 1) as victims, (select count(*) from ${TEMP.locked}) as locked
from ${TEMP.members}`;
}

export function skippedGroupsQuery(): RawBuilder<{ group_id: string; reason: string }> {
  return sql`select group_id, reason from ${TEMP.skipped} order by group_id`;
}

/** The dry run's sample: the largest groups first, with keeper and losers in rank order. */
export function sampleGroupsQuery(
  limit: number,
  members: RawBuilder<unknown> = TEMP.members,
): RawBuilder<{ group_id: string; key_values: unknown[]; keeper: string; losers: string[] }> {
  return sql`select group_id, key_values, keeper_id::text as keeper,
       array_agg(row_id::text order by rank_in_group) filter (where rank_in_group > 1) as losers
from ${members}
group by group_id, key_values, keeper_id
order by count(*) desc, group_id
limit ${sql.lit(limit)}`;
}
