import type { ConstraintAddPlan, OverlappingIndex } from '../../core/constraint/plan-add.js';

/**
 * What another unique index beside the one being built means for the
 * webhook's ON CONFLICT, then the commands that remove the redundant one and
 * regenerate the statement, each on a line of its own (copied and run as
 * printed): one note each, said before the build.
 */
export function overlapNotes(plan: Pick<ConstraintAddPlan, 'name' | 'overlapping'>): string[] {
  return plan.overlapping.map((index) =>
    [index.relation === 'wider' ? wider(plan.name, index) : narrower(plan.name, index), `  ${index.dropCommand}`, `  ${index.upsertCommand}`].join('\n'),
  );
}

function wider(name: string, index: OverlappingIndex): string {
  return (
    `note: ${index.name} (${index.elements.join(', ')}) is on more columns than ${name}: once built, ${name} rejects every row ${index.name} rejects, so ${index.name} is redundant. ` +
    `A webhook whose ON CONFLICT names ${index.name}'s columns would get 23505 from ${name} for a row that differs only in ${index.difference.join(', ')}, and when two calls race. ` +
    'Drop it, then regenerate the statement (with your retry policy):'
  );
}

function narrower(name: string, index: OverlappingIndex): string {
  return (
    `note: ${index.name} (${index.elements.join(', ')}) already rejects every duplicate of this key and more (a row equal on ${index.elements.join(', ')} whatever its ${index.difference.join(', ')}), ` +
    `so ${name} adds no protection while it exists, and the webhook's ON CONFLICT on this key would get 23505 from one index or the other (sql upsert refuses it). ` +
    'If one lead per value of this key is meant, drop it, then regenerate the statement (with your retry policy):'
  );
}
