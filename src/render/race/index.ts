import type { RaceReport } from '../../core/race/race.js';
import { renderAs, type RenderContext } from '../common/render-as.js';
import { renderTable } from '../common/table.js';

export type RaceFormat = 'table' | 'json';

export function renderRace(report: RaceReport, format: RaceFormat, context: RenderContext): string {
  return renderAs(format, { table: () => renderRaceTable(report, context.width), json: () => report }, context);
}

function counts(record: Record<string, number>): string {
  const entries = Object.entries(record);
  return entries.length === 0 ? '0' : entries.map(([name, n]) => `${n} ${name}`).join('\n');
}

function renderRaceTable(report: RaceReport, width: number): string {
  const head = [
    `race on ${report.scratchTable} (a copy of ${report.table}'s columns and indexes, dropped afterwards)`,
    `one lead, ${report.callsPerRound} concurrent identical calls per round; key ${report.key}, --on-duplicate ${report.onDuplicate}`,
    `check-then-insert selects by ${report.checkColumns.join(', ')} first, as the webhook does today`,
    '',
  ];
  const table = renderTable(
    {
      head: ['path', 'rounds', 'calls', 'rows created', 'duplicates', 'outcomes', 'errors'],
      rows: report.paths.map((path) => [
        path.path,
        String(path.rounds),
        String(path.calls),
        String(path.rowsCreated),
        String(path.duplicates),
        counts(path.outcomes),
        counts(path.errors),
      ]),
    },
    width,
  );
  const verdict = report.proven
    ? 'proven: the generated statement stored one row per round, one caller per round was told inserted, no caller saw an error'
    : 'NOT proven: the generated statement created duplicates, returned other outcomes than one inserted per round, or a caller saw an error';
  const missing =
    report.missingIndex === null
      ? ''
      : `no unique index enforces key ${report.key} yet, so the statement fails; first check and build it with:\n  ${report.missingIndex.addCommand}\n`;
  return `${head.join('\n')}${table}\n${missing}${verdict} (${(report.elapsedMs / 1000).toFixed(1)} s)\n`;
}
