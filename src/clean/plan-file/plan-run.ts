import type { PlanHeader } from './plan-format.js';
import type { LoadedPlan } from './load-plan.js';
import type { OpenedPlan } from './read-plan.js';

/** Rows that carry a planned group's key but are not in the plan: left in place, reported. */
export interface NewRows {
  groups: number;
  rows: number;
  /** The first 20 groups (by id) and their new rows. */
  sample: { groupId: string; rows: number }[];
}

/** What applying (or checking) a plan found besides clean's own counts. */
export interface PlanApplySummary {
  file: string;
  /** The digest in the plan's header: the plan's id in the run log. */
  id: string;
  /** The digest of the plan as read. */
  digest: string;
  /** id ≠ digest: the plan was edited by hand after it was written. */
  edited: boolean;
  createdAt: string;
  groupsInPlan: number;
  /** Groups left untouched because their review status is "needs review" or "rejected". */
  notAccepted: number;
  /** Cleaned by an earlier run of this plan (e.g. one that was killed): not applied again. */
  alreadyDone: number;
  /** Skipped whole: a planned row changed since the plan. */
  staleChanged: number;
  /** Skipped whole: a planned row is gone since the plan. */
  staleGone: number;
  newRows: NewRows;
}

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
    createdAt: source.header.createdAt,
    groupsInPlan: loaded.groups,
    notAccepted: loaded.notAccepted,
    alreadyDone: 0,
    staleChanged: 0,
    staleGone: 0,
    newRows: { groups: 0, rows: 0, sample: [] },
  };
}
