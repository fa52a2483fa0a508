import type { PlanFlags } from '../cli/clean-flags.js';
import { stoppable } from '../cli/interrupt.js';
import type { OutputFlags } from '../cli/options.js';
import { note, withSpinner, writeReport } from '../cli/output.js';
import type { CleanOptions } from '../clean/types.js';
import { checkPlan } from '../clean/plan-file/check-plan.js';
import { requirePlanAge, resolvePlanKey, type PlanTargetRequest } from '../clean/plan-file/plan-match.js';
import { readDatabaseIdentity } from '../clean/plan-file/plan-identity.js';
import { openPlan, type OpenedPlan } from '../clean/plan-file/read-plan.js';
import type { Database } from '../db/database.js';
import { ExitCode } from '../errors.js';
import type { ResolvedKey } from '../keys/key-definition.js';
import { renderClean, type CleanFormat } from '../render/clean/index.js';
import type { RenderContext } from '../render/common/render-as.js';

/** `clean --plan <file>`: opens the plan, checks its age and that it is for this database, table and key, and always closes it. */
export async function withPlan(
  database: Database,
  planFlags: PlanFlags,
  request: Omit<PlanTargetRequest, 'keyText'> & { keyText: string | undefined },
  flags: { quiet?: boolean },
  run: (plan: OpenedPlan, key: ResolvedKey) => Promise<ExitCode>,
): Promise<ExitCode> {
  const plan = await openPlan(planFlags.plan!);
  try {
    requirePlanAge(plan, planFlags.maxPlanAgeMs, planFlags.maxPlanAge);
    const key = await resolvePlanKey(database.db, plan, await readDatabaseIdentity(database.db), request);
    if (key.table.createdFallback !== undefined) note(`lead-dedupe: ${key.table.createdFallback}: oldest/newest by ${key.table.idColumn}`, flags);
    return await run(plan, key);
  } finally {
    plan.close();
  }
}

/** `clean --plan <file>` without --execute: how much of the plan still holds; changes nothing. */
export async function checkPlanReport(
  database: Database,
  options: CleanOptions,
  plan: OpenedPlan,
  flags: OutputFlags<CleanFormat>,
  context: RenderContext,
): Promise<ExitCode> {
  const check = await stoppable(database, 'nothing was changed', () => withSpinner('checking the plan', flags, () => checkPlan(database, options, plan)));
  await writeReport(renderClean({ kind: 'plan-check', check }, flags.format, context), flags);
  return ExitCode.ok;
}
