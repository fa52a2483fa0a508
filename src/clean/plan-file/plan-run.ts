import type { PlanHeader } from './plan-format.js';
import type { LoadedPlan } from './load-plan.js';
import type { OpenedPlan } from './read-plan.js';
import type { PlanApplySummary } from '../types.js';

/** The plan a clean run applies: the opened file, then what loading it found. */
export interface PlanRun {
  source: OpenedPlan;
  loaded: LoadedPlan | null;
}

/** What the run log records of the plan a run applied (lead_dedupe_runs.options.plan). */
export function planRecord(source: OpenedPlan, loaded: LoadedPlan): { id: string; digest: string; edited: boolean; file: string; header: PlanHeader } {
  return { id: source.header.digest, digest: loaded.digest, edited: loaded.edited, file: source.path, header: source.header };
}

export function emptySummary(source: OpenedPlan, loaded: LoadedPlan): PlanApplySummary {
  return {
    file: source.path,
    id: source.header.digest,
    digest: loaded.digest,
    edited: loaded.edited,
    reviewedAt: loaded.reviewed ? source.header.reviewed!.at : null,
    createdAt: source.header.createdAt,
    groupsInPlan: loaded.groups,
    notAccepted: loaded.notAccepted,
    alreadyDone: 0,
    staleChanged: 0,
    staleGone: 0,
    newRows: { groups: 0, rows: 0, sample: [] },
  };
}
