import type { SeedResult } from '../../seed/seed.js';
import { formatCount, formatDuration } from '../common/format.js';
import { renderAs, type RenderContext } from '../common/render-as.js';

export function renderSeed(result: SeedResult, format: 'table' | 'json', context: RenderContext): string {
  return renderAs(
    format,
    {
      table: () => renderTable(result),
      // The group sizes run to thousands of numbers: JSON gives their count instead.
      json: () => ({ ...result, plan: { ...result.plan, groupSizes: undefined, groups: result.plan.groupSizes.length } }),
    },
    context,
  );
}

function renderTable(result: SeedResult): string {
  const plan = result.plan;
  return [
    `seeded ${result.table}: ${formatCount(result.rows)} leads (${plan.scenario}), ${result.childTable}: ${formatCount(result.activities)} activities, in ${formatDuration(result.durationMs)}`,
    `  built in: ${formatCount(plan.groupSizes.length)} device-phone duplicate groups, ${formatCount(plan.surplus)} surplus rows, largest group ${plan.largestGroup}`,
    `  plus ${formatCount(plan.formatVariants)} phone spelling variants (duplicates after e164), ${formatCount(plan.siblingReuses)} phones reused on a sibling device (user-phone), ${formatCount(plan.nullPhones)} NULL phones`,
    ...(plan.nearDuplicates + plan.relatives > 0
      ? [
          `  plus ${formatCount(plan.nearDuplicates)} resubmissions with typos (near-duplicates no exact key catches), ${formatCount(plan.relatives)} relatives sharing a phone; true_person_id says who is who`,
        ]
      : []),
    '',
  ].join('\n');
}
