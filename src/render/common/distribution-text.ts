import type { TableDistribution } from '../../db/distribution.js';
import { formatCount } from './format.js';

/** One line on how Citus places the table, e.g. "Citus 13.2-1: distributed by device_id (hash, 8 shards); …"; null without Citus. */
export function distributionText(distribution: TableDistribution | null): string | null {
  if (distribution === null) return null;
  const children = distribution.colocatedChildren.length > 0 ? `; co-located child table(s): ${distribution.colocatedChildren.join(', ')}` : '';
  const shards = `${formatCount(distribution.shardCount ?? 0)} shard(s)`;
  const placement = (() => {
    switch (distribution.kind) {
      case 'distributed':
        return distribution.column === null
          ? `distributed table without a distribution column (single shard)${children}`
          : `distributed by ${distribution.column} (${distribution.method}, ${shards})${children}`;
      case 'reference':
        return `reference table (a copy on every node)${children}`;
      case 'citus-local':
        return "local table on the coordinator, in Citus' metadata";
      case 'local':
        return "local table on the coordinator, not in Citus' metadata";
      default:
        return distribution.kind satisfies never;
    }
  })();
  const leftover =
    distribution.coordinatorLeftoverBytes > 0
      ? `; the coordinator still holds ${(distribution.coordinatorLeftoverBytes / 1_048_576).toFixed(1)} MB of its rows from before it was distributed (see truncate_local_data_after_distributing_table)`
      : '';
  return `Citus ${distribution.citusVersion}: ${placement}${leftover}`;
}
