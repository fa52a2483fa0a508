import type { SeedResult } from '../../seed/seed.js';
import { formatCount, formatDuration } from '../shared/format.js';

export function renderSeed(result: SeedResult, format: 'table' | 'json'): string {
  if (format === 'json') return `${JSON.stringify({ ...result, plan: { ...result.plan, groupSizes: undefined, groups: result.plan.groupSizes.length } }, null, 2)}\n`;
  const plan = result.plan;
  return [
    `seeded ${result.table}: ${formatCount(result.rows)} leads (${plan.scenario}), ${result.childTable}: ${formatCount(result.activities)} activities, in ${formatDuration(result.durationMs)}`,
    `  built in: ${formatCount(plan.groupSizes.length)} device-phone duplicate groups, ${formatCount(plan.surplus)} surplus rows, largest group ${plan.largestGroup}`,
    `  plus ${formatCount(plan.formatVariants)} phone spelling variants (duplicates after e164), ${formatCount(plan.siblingReuses)} phones reused on a sibling device (user-phone), ${formatCount(plan.nullPhones)} NULL phones`,
    '',
  ].join('\n');
}
