import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { measure, type Measured } from './measure.js';
import type { CaseResult } from './report.js';

export interface PlanCaseContext {
  url: string;
  bin: string;
  outDir: string;
  rounds: number;
  wanted: (name: string) => boolean;
  log: (text: string) => void;
  /** A fresh identical copy of leads and lead_activities in `schema` (untimed). */
  copyTables: (url: string, schema: string) => Promise<void>;
  summarise: (name: string, tool: Measured[], baseline: Measured[]) => CaseResult;
}

/**
 * Review before apply. `plan out`: clean --plan-out against the dry run it
 * extends (the "baseline" column; target ≤ 2×). `plan apply`: clean --plan
 * --execute (the plan written untimed on a fresh copy) against clean
 * --execute of the same groups on another fresh copy (target ≤ 1.3×).
 */
export async function planCases(context: PlanCaseContext): Promise<CaseResult[]> {
  const { url, bin, outDir, rounds, wanted, log } = context;
  const tool = (args: string[]) => measure(process.execPath, [bin, ...args, '--database', url]);
  const planFile = join(outDir, 'plan.jsonl');
  const cases: CaseResult[] = [];
  if (wanted('plan out')) {
    const runs = { tool: [] as Measured[], baseline: [] as Measured[] };
    const dryRun = ['clean', '--key', 'device-phone', '--mode', 'delete', '--format', 'json'];
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['tool', 'baseline'] as const) : (['baseline', 'tool'] as const);
      for (const side of order) runs[side].push(await tool(side === 'tool' ? [...dryRun, '--plan-out', planFile] : dryRun));
      log(`plan out round ${round + 1}: tool ${runs.tool.at(-1)!.seconds.toFixed(2)} s, dry run ${runs.baseline.at(-1)!.seconds.toFixed(2)} s`);
    }
    cases.push(context.summarise('plan out', runs.tool, runs.baseline));
  }
  if (wanted('plan apply')) {
    const copies = { tool: 'copy_tool', baseline: 'copy_baseline' } as const;
    const runs = { tool: [] as Measured[], baseline: [] as Measured[] };
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['tool', 'baseline'] as const) : (['baseline', 'tool'] as const);
      for (const side of order) {
        await context.copyTables(url, copies[side]);
        const plain = ['clean', '--table', `${copies[side]}.leads`, '--key', 'device-phone', '--mode', 'delete'];
        const archive = ['--archive-schema', `${copies[side]}_archive`, '--format', 'json'];
        if (side === 'tool') {
          await tool([...plain, '--plan-out', planFile, '--quiet']);
          runs.tool.push(await tool(['clean', '--plan', planFile, '--execute', ...archive]));
        } else {
          runs.baseline.push(await tool([...plain, '--execute', ...archive]));
        }
      }
      log(`plan apply round ${round + 1}: tool ${runs.tool.at(-1)!.seconds.toFixed(2)} s, clean --execute ${runs.baseline.at(-1)!.seconds.toFixed(2)} s`);
    }
    cases.push(context.summarise('plan apply', runs.tool, runs.baseline));
  }
  rmSync(planFile, { force: true });
  return cases;
}
