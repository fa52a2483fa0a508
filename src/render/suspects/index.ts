import { stringify } from 'csv-stringify/sync';
import type { SuspectGroup, SuspectsHeader, SuspectsSummary } from '../../suspects/suspects.js';
import type { Scores } from '../../suspects/evaluate.js';
import { CSV_CAST } from '../common/csv-cast.js';
import { formatCount, formatDuration, formatValue } from '../common/format.js';
import { renderAs, type RenderContext } from '../common/render-as.js';
import { streamedJson, type StreamedReport } from '../common/streamed-report.js';
import { renderTable } from '../common/table.js';

export const SUSPECTS_FORMATS = ['table', 'json', 'csv'] as const;
export type SuspectsFormat = (typeof SUSPECTS_FORMATS)[number];

export type SuspectsRenderer = StreamedReport<SuspectsHeader, SuspectGroup, SuspectsSummary>;

/**
 * Rendered as the groups are read. json: everything, each group with its
 * pairs and its rows' stored values; csv: one line per pair with both rows'
 * values; table: the counts, the first `top` groups with their pairs and
 * reasons, the evaluation (it keeps those groups only, and prints at the end,
 * when the totals are known).
 */
export function suspectsRenderer(format: SuspectsFormat, context: RenderContext, top = 20): SuspectsRenderer {
  if (format === 'json') return streamedJson('groups', context);
  if (format === 'csv') return csvRenderer();
  return tableRenderer(context, top);
}

function tableRenderer(context: RenderContext, top: number): SuspectsRenderer {
  let header: SuspectsHeader | null = null;
  const shown: SuspectGroup[] = [];
  return {
    start: (known) => {
      header = known;
      return '';
    },
    items: (groups) => {
      shown.push(...groups.slice(0, top - shown.length));
      return '';
    },
    end: (summary) => renderAs('table', { table: () => renderText(header!, shown, summary, context.width, top) }, context),
  };
}

function renderText(header: SuspectsHeader, shown: readonly SuspectGroup[], summary: SuspectsSummary, width: number, top: number): string {
  const lines = [
    `suspects in ${header.table}: probably the same lead, not caught by key ${header.key}`,
    `  candidate pairs per block (counted before comparing): ${header.blockCounts.map((c) => `${c.block} ${formatCount(c.pairs)}`).join(', ')}`,
    `  ${formatCount(header.candidates)} distinct candidate pairs, ${formatCount(header.compared)} not already one key group, compared; ${formatCount(summary.pairCount)} pairs scored ${header.threshold} or more, in ${formatCount(summary.groupCount)} groups (${formatDuration(summary.durationMs)})`,
    `  names compared by ${header.functions.nameSimilarity}, accents folded by ${header.functions.accents}`,
    '',
  ];
  for (const group of shown) {
    lines.push(`group ${group.group}: rows ${group.ids.join(', ')}`);
    const rows = group.pairs.map((p) => [`${p.a} – ${p.b}`, p.score.toFixed(1), p.reasons]);
    lines.push(renderTable({ head: ['pair', 'score', 'reasons'], rows }, width), '');
  }
  if (summary.groupCount > top) lines.push(`… and ${formatCount(summary.groupCount - top)} more groups (--format json or csv lists them all)`, '');
  const evaluation = summary.evaluation;
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

/** One line per pair: the group, ids, score, reasons, blocks, then each stored column of row a and of row b (the table's columns, in order). */
function csvRenderer(): SuspectsRenderer {
  let columns: string[] = [];
  let names: string[] = [];
  return {
    start: (header) => {
      columns = header.columns;
      names = ['group', 'a', 'b', 'score', 'reasons', 'blocks', ...columns.map((c) => `a_${c}`), ...columns.map((c) => `b_${c}`)];
      return stringify([], { header: true, columns: names });
    },
    items: (groups) => {
      const values = (group: SuspectGroup, id: string, prefix: string) =>
        Object.fromEntries(columns.map((c) => [`${prefix}${c}`, formatCell(group.rows[id]?.[c])]));
      const lines = groups.flatMap((group) =>
        group.pairs.map((p) => ({
          group: group.group,
          a: p.a,
          b: p.b,
          score: p.score,
          reasons: p.reasons,
          blocks: p.blocks.join('; '),
          ...values(group, p.a, 'a_'),
          ...values(group, p.b, 'b_'),
        })),
      );
      return lines.length === 0 ? '' : stringify(lines, { header: false, cast: CSV_CAST, columns: names });
    },
    end: () => '',
  };
}

function formatCell(value: unknown): string {
  return value === null || value === undefined ? '' : typeof value === 'string' ? value : formatValue(value);
}
