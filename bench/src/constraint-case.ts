import { constraintSql } from './baseline-sql.js';
import { loadAverage, measurePsql, measureTool, summarise, type Measured } from './measure.js';
import type { CaseResult } from './report.js';
import { sqlOn } from './sql-on.js';

interface ConstraintCaseContext {
  bin: string;
  rounds: number;
  log: (line: string) => void;
  /** A fresh file copy of the seeded database; returns its URL. */
  freshCopy: () => Promise<string>;
}

/**
 * `--only constraint` without a clean case (the 50M run): one copy rid of its duplicates by one
 * DELETE (untimed), then `constraint add --execute` and the two hand-written statements
 * alternately on it, the constraint dropped (untimed) after each run. At 50M rows a clean per run
 * and side, as the clean case does, would cost more than every other case together.
 */
export async function constraintOnlyCase(context: ConstraintCaseContext): Promise<CaseResult> {
  const { bin, rounds, log } = context;
  const copyUrl = await context.freshCopy();
  const started = performance.now();
  // Not clean's hand-written transaction: at 50M rows it ran for more than 30 minutes (archive and
  // re-point included). Only the duplicates must go, so the copy loses its foreign key and the surplus rows.
  await sqlOn(copyUrl, [
    'alter table lead_activities drop constraint lead_activities_lead_id_fkey',
    `delete from leads where id in (select id from (select id, row_number() over (partition by device_id, phone order by created_at, id) as rn
       from leads where device_id is not null and phone is not null) as ranked where rn > 1)`,
    'vacuum analyze leads',
    'checkpoint',
  ]);
  log(`constraint: the copy's duplicates deleted in ${((performance.now() - started) / 1000).toFixed(1)} s (untimed)`);
  const dropUniqueConstraint = () =>
    sqlOn(copyUrl, [
      `do $$ declare c text; begin
         select conname into c from pg_constraint where conrelid = 'public.leads'::regclass and contype = 'u';
         execute format('alter table public.leads drop constraint %I', c);
       end $$`,
    ]);
  const loadBefore = loadAverage();
  const runs = { tool: [] as Measured[], baseline: [] as Measured[] };
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 === 0 ? (['tool', 'baseline'] as const) : (['baseline', 'tool'] as const)) {
      runs[side].push(
        side === 'tool'
          ? await measureTool(bin, copyUrl, ['constraint', 'add', '--key', 'device-phone', '--execute'])
          : await measurePsql(copyUrl, constraintSql('public')),
      );
      await dropUniqueConstraint();
    }
    log(`constraint round ${round + 1}: tool ${runs.tool.at(-1)!.seconds.toFixed(2)} s, baseline ${runs.baseline.at(-1)!.seconds.toFixed(2)} s`);
  }
  return { ...summarise('constraint', runs.tool, runs.baseline), loadBefore };
}
