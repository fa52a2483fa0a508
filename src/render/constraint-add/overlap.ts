import type { ConstraintAddPlan, OverlappingIndex } from '../../core/constraint/plan-add.js';

/**
 * What another unique index beside the one being built means for the
 * webhook's ON CONFLICT, with the commands that remove the redundant one and
 * regenerate the statement: one line each, said before the build.
 */
export function overlapNotes(plan: ConstraintAddPlan): string[] {
  return plan.overlapping.map((index) => (index.relation === 'wider' ? wider(plan, index) : narrower(plan, index)));
}

function wider(plan: ConstraintAddPlan, index: OverlappingIndex): string {
  return (
    `note: ${index.name} (${index.elements.join(', ')}) is on more columns than ${plan.name}: once built, ${plan.name} rejects every row ${index.name} rejects, so ${index.name} is redundant. ` +
    `A webhook whose ON CONFLICT names ${index.name}'s columns would get 23505 from ${plan.name} for a row that differs only in ${index.difference.join(', ')}, and when two calls race. ` +
    `Drop it: ${index.dropCommand}; then regenerate the statement (with your retry policy): ${index.upsertCommand}`
  );
}

function narrower(plan: ConstraintAddPlan, index: OverlappingIndex): string {
  return (
    `note: ${index.name} (${index.elements.join(', ')}) already rejects every duplicate of this key and more (a row equal on ${index.elements.join(', ')} whatever its ${index.difference.join(', ')}), ` +
    `so ${plan.name} adds no protection while it exists, and an update policy's ON CONFLICT on this key would get 23505 from ${index.name} (sql upsert refuses it). ` +
    `If one lead per value of this key is meant, drop it: ${index.dropCommand}; then regenerate the statement (with your retry policy): ${index.upsertCommand}`
  );
}
