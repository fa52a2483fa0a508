import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadAverage, measureTool, type Measured } from './measure.js';
import type { CaseResult } from './report.js';

export interface PlanCaseContext {
  url: string;
  bin: string;
  outDir: string;
  rounds: number;
  wanted: (name: string) => boolean;
  log: (text: string) => void;
  /** A fresh identical copy of the seeded database for one side (untimed); returns its URL. */
  freshCopy: (side: 'tool' | 'baseline') => Promise<string>;
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
  const tool = (args: string[]) => measureTool(bin, url, args);
  const planFile = join(outDir, 'plan.jsonl');
  const cases: CaseResult[] = [];
  if (wanted('plan out')) {
    const loadBefore = loadAverage();
    const runs = { tool: [] as Measured[], baseline: [] as Measured[] };
    const dryRun = ['clean', '--key', 'device-phone', '--mode', 'delete', '--format', 'json'];
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['tool', 'baseline'] as const) : (['baseline', 'tool'] as const);
      for (const side of order) runs[side].push(await tool(side === 'tool' ? [...dryRun, '--plan-out', planFile] : dryRun));
      log(`plan out round ${round + 1}: tool ${runs.tool.at(-1)!.seconds.toFixed(2)} s, dry run ${runs.baseline.at(-1)!.seconds.toFixed(2)} s`);
    }
    cases.push({ ...context.summarise('plan out', runs.tool, runs.baseline), loadBefore });
  }
  if (wanted('plan apply')) {
    const loadBefore = loadAverage();
    const runs = { tool: [] as Measured[], baseline: [] as Measured[] };
    const toolOn = (databaseUrl: string, args: string[]) => measureTool(bin, databaseUrl, args);
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['tool', 'baseline'] as const) : (['baseline', 'tool'] as const);
      for (const side of order) {
        const copyUrl = await context.freshCopy(side);
        const plain = ['clean', '--key', 'device-phone', '--mode', 'delete'];
        if (side === 'tool') {
          await toolOn(copyUrl, [...plain, '--plan-out', planFile, '--quiet']);
          runs.tool.push(await toolOn(copyUrl, ['clean', '--plan', planFile, '--execute', '--format', 'json']));
        } else {
          runs.baseline.push(await toolOn(copyUrl, [...plain, '--execute', '--format', 'json']));
        }
      }
      log(`plan apply round ${round + 1}: tool ${runs.tool.at(-1)!.seconds.toFixed(2)} s, clean --execute ${runs.baseline.at(-1)!.seconds.toFixed(2)} s`);
    }
    cases.push({ ...context.summarise('plan apply', runs.tool, runs.baseline), loadBefore });
  }
  rmSync(planFile, { force: true });
  return cases;
}
