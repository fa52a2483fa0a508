import { formatWindow } from '../../core/diagnose/answers.js';

/** "≤ 100 ms", "≤ 1 s", …, "> 1 day": one wording for the table, CSV and HTML. */
export function gapLabel(upToMs: number | null, previousMs: number | null): string {
  if (upToMs === null) return previousMs === null ? 'any' : `> ${dayOrWindow(previousMs)}`;
  return `≤ ${dayOrWindow(upToMs)}`;
}

function dayOrWindow(ms: number): string {
  return ms === 86_400_000 ? '1 day' : formatWindow(ms);
}

export function gapLabels(gaps: { upToMs: number | null }[]): string[] {
  return gaps.map((gap, index) => gapLabel(gap.upToMs, index === 0 ? null : gaps[index - 1]!.upToMs));
}
