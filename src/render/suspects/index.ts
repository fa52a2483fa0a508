import { stringify } from 'csv-stringify/sync';
import type { SuspectsReport } from '../../suspects/suspects.js';
import type { Scores } from '../../suspects/evaluate.js';
import { CSV_CAST } from '../common/csv-cast.js';
import { formatCount, formatDuration, formatValue } from '../common/format.js';
import { renderAs, type RenderContext } from '../common/render-as.js';
import { renderTable } from '../common/table.js';

export const SUSPECTS_FORMATS = ['table', 'json', 'csv'] as const;
export type SuspectsFormat = (typeof SUSPECTS_FORMATS)[number];

/** table: the counts, the first `top` groups with their pairs and reasons, the evaluation; json: everything; csv: one line per pair with both rows' values. */
export function renderSuspects(report: SuspectsReport, format: SuspectsFormat, context: RenderContext, top = 20): string {
  return renderAs(format, { table: () => renderText(report, context.width, top), json: () => report, csv: () => renderCsv(report) }, context);
}

function renderText(report: SuspectsReport, width: number, top: number): string {
  const lines = [
    `suspects in ${report.table}: probably the same lead, not caught by key ${report.key}`,
    `  candidate pairs per block (counted before comparing): ${report.blockCounts.map((c) => `${c.block} ${formatCount(c.pairs)}`).join(', ')}`,
    `  ${formatCount(report.candidates)} distinct candidate pairs, ${formatCount(report.compared)} not already one key group, compared; ${formatCount(report.pairs.length)} pairs scored ${report.threshold} or more, in ${formatCount(report.groups.length)} groups (${formatDuration(report.durationMs)})`,
    `  names compared by ${report.functions.nameSimilarity}, accents folded by ${report.functions.accents}`,
    '',
  ];
  const pairsOf = new Map<string, typeof report.pairs>();
  for (const pair of report.pairs) pairsOf.set(pair.group, [...(pairsOf.get(pair.group) ?? []), pair]);
  for (const group of report.groups.slice(0, top)) {
    lines.push(`group ${group.group}: rows ${group.ids.join(', ')}`);
    const rows = (pairsOf.get(group.group) ?? []).map((p) => [`${p.a} – ${p.b}`, p.score.toFixed(1), p.reasons]);
    lines.push(renderTable({ head: ['pair', 'score', 'reasons'], rows }, width), '');
  }
  if (report.groups.length > top) lines.push(`… and ${formatCount(report.groups.length - top)} more groups (--format json or csv lists them all)`, '');
  const evaluation = report.evaluation;
  if (evaluation !== null) {
    lines.push(
      `against ${evaluation.truthColumn} (pairs of one person the key does not group):`,
      renderTable(
        {
          head: ['', 'predicted', 'same person', 'truth', 'precision', 'recall', 'F1'],
          rows: [scoreRow('pairs', evaluation.pairs), scoreRow('groups (every two rows)', evaluation.groups)],
        },
        width,
      ),
      '',
    );
  }
  return lines.join('\n');
}

function scoreRow(label: string, scores: Scores): string[] {
  return [
    label,
    formatCount(scores.predicted),
    formatCount(scores.truePositives),
    formatCount(scores.truth),
    scores.precision.toFixed(4),
    scores.recall.toFixed(4),
    scores.f1.toFixed(4),
  ];
}

/** One line per pair: the group, ids, score, reasons, blocks, then each stored column of row a and of row b. */
function renderCsv(report: SuspectsReport): string {
  const columns = [...new Set(Object.values(report.rows).flatMap((row) => Object.keys(row)))];
  const values = (id: string, prefix: string) => Object.fromEntries(columns.map((c) => [`${prefix}${c}`, formatCell(report.rows[id]?.[c])]));
  return stringify(
    report.pairs.map((p) => ({
      group: p.group,
      a: p.a,
      b: p.b,
      score: p.score,
      reasons: p.reasons,
      blocks: p.blocks.join('; '),
      ...values(p.a, 'a_'),
      ...values(p.b, 'b_'),
    })),
    {
      header: true,
      cast: CSV_CAST,
      columns: ['group', 'a', 'b', 'score', 'reasons', 'blocks', ...columns.map((c) => `a_${c}`), ...columns.map((c) => `b_${c}`)],
    },
  );
}

function formatCell(value: unknown): string {
  return value === null || value === undefined ? '' : typeof value === 'string' ? value : formatValue(value);
}
