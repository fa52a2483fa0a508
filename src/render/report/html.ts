import type { ReportData } from '../../core/report/report-data.js';
import { formatWindow, percent } from '../../core/diagnose/answers.js';
import { gapLabels } from '../common/gap-labels.js';
import { formatCount, formatValue } from '../common/format.js';
import { html, jsonScript, type SafeHtml } from './safe-html.js';
import { STYLE } from './style.js';
import { skippedKeysLine } from '../../keys/skipped-keys.js';
import { barChart, columnChart, shareBar } from './svg-charts.js';

const CAUSE_COLORS = { race: '#c0392b', retry: '#e67e22', resubmission: '#2f6db5', unknown: '#95a5a6' };

/**
 * One self-contained HTML page: inline CSS and SVG, no script that runs, no
 * external resource; every value from the database is escaped by `html`.
 * The figures are the scan and diagnose results themselves, also embedded as
 * JSON (`#report-data`) so a reader or a test can check them.
 */
export function renderReportHtml(data: ReportData): string {
  const { scan, diagnosis: d } = data;
  const key = scan.keys.find((k) => k.name === d.key.name);
  const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Duplicate leads in ${scan.table}</title><style>${STYLE}</style></head>
<body><main>
<header><h1>Duplicate leads in <code>${scan.table}</code></h1>
<p class="meta">${formatCount(scan.rows)} rows · generated ${data.generatedAt} by lead-dedupe · diagnosed key <strong>${d.key.name}</strong> (${d.key.columns.join(', ')})</p>
${data.redacted ? html`<p class="meta">Customer values are masked: each shows a few characters and a tag, and equal values carry equal tags in this file (lead-dedupe report --no-redact shows them in full).</p>` : html`<p class="meta">This report shows customer values in full (made with --no-redact).</p>`}</header>

<section id="answers"><h2>What the data says</h2><ol class="answers">${d.answers.map((a) => html`<li><strong>${a.question}</strong><p>${a.answer}</p></li>`)}</ol></section>

<section id="scan"><h2>Every candidate rule, side by side</h2>
<div class="scroll"><table><thead><tr><th>key</th><th>columns</th><th>duplicate groups</th><th>rows in groups</th><th>surplus rows</th><th>largest group</th><th>protected by</th></tr></thead><tbody>
${scan.keys.map((k) => {
  const protection = data.constraints.keys.find((p) => p.key.name === k.name);
  return html`<tr><td>${k.name}</td><td>${k.columns.join(', ')}${
    Object.keys(k.normalize).length
      ? html` <small>(${Object.entries(k.normalize)
          .map(([c, r]) => `${c}=${r}`)
          .join(', ')})</small>`
      : ''
  }</td><td class="n">${formatCount(k.groups)}</td><td class="n">${formatCount(k.rowsInGroups)}</td><td class="n">${formatCount(k.surplus)}</td><td class="n">${formatCount(k.largestGroup)}</td><td>${protection === undefined || protection.protectedBy.length === 0 ? 'nothing' : protection.protectedBy.join(', ')}</td></tr>`;
})}</tbody></table></div>
${barChart(
  'Surplus rows per key',
  scan.keys.map((k) => ({ label: k.name, value: k.surplus })),
)}
${skippedKeysNote(scan)}
</section>

${
  key === undefined
    ? ''
    : html`<section id="sizes"><h2>Group sizes under ${key.name}</h2>${barChart(
        `Groups per size under ${key.name}`,
        key.sizes.map((s) => ({ label: `${s.size} rows`, value: s.groups })),
      )}
<div class="scroll"><table><thead><tr>${key.columns.map((c) => html`<th>${c}</th>`)}<th>rows</th><th>first created</th><th>last created</th></tr></thead><tbody>
${key.top.map((g) => html`<tr>${key.columns.map((c) => html`<td>${formatValue(g.key[c])}</td>`)}<td class="n">${formatCount(g.count)}</td><td>${g.firstCreated ?? '-'}</td><td>${g.lastCreated ?? '-'}</td></tr>`)}</tbody></table></div></section>`
}

<section id="timing"><h2>When copies arrive: time since the previous copy</h2>
<p>${formatCount(d.surplus)} surplus rows in ${formatCount(d.groups)} groups. Race ≤ ${formatWindow(d.cause.raceWindowMs)}, retry ≤ ${formatWindow(d.cause.retryWindowMs)}, resubmission later.</p>
${barChart('Duplicates per gap to the previous copy', [...gapLabels(d.gaps).map((label, i) => ({ label, value: d.gaps[i]!.duplicates })), { label: 'unknown', value: d.gapsUnknown }], '#8e44ad')}
${shareBar(
  'Cause of the surplus rows',
  (['race', 'retry', 'resubmission', 'unknown'] as const).map((c) => ({ label: c, value: d.cause[c], color: CAUSE_COLORS[c] })),
)}
<div class="scroll"><table><thead><tr><th>cause</th><th>surplus rows</th><th>share</th></tr></thead><tbody>
${(['race', 'retry', 'resubmission', 'unknown'] as const).map((c) => html`<tr><td>${c}</td><td class="n">${formatCount(d.cause[c])}</td><td class="n">${percent(d.cause[c], d.surplus)}</td></tr>`)}</tbody></table></div></section>

<section id="trend"><h2>Is it still happening? Per ${d.trend.interval} (UTC), ${d.trend.days} days up to ${d.trend.newestCreatedAt ?? '-'}</h2>
${
  d.trend.points.length === 0
    ? html`<p class="note">No created times.</p>`
    : columnChart(
        'Duplicates and leads created per ' + d.trend.interval,
        d.trend.points.map((p) => ({ label: p.start, bar: p.duplicates, line: p.leads })),
        { bar: 'duplicates', line: 'leads' },
      )
}
<p>Last duplicate ${d.trend.lastDuplicateAt ?? '-'}; <strong>${formatCount(d.trend.last24hBeforeNow)}</strong> in the 24 hours and <strong>${formatCount(d.trend.last7dBeforeNow)}</strong> in the 7 days before ${d.trend.serverNow} (the server's clock when the report was made); ${formatCount(d.trend.last24h)} and ${formatCount(d.trend.last7d)} in the 24 hours and 7 days up to the newest lead.</p></section>

<section id="columns"><h2>What later copies change</h2>
<div class="scroll"><table><thead><tr><th>column</th><th>groups differing</th><th>copies differing</th><th>differing only here</th><th>groups where a copy fills it</th></tr></thead><tbody>
${d.columnsThatDiffer.map((c, i) => html`<tr><td>${c.column}</td><td class="n">${formatCount(c.groups)}</td><td class="n">${formatCount(c.rows)}</td><td class="n">${formatCount(c.rowsDifferingOnlyHere)}</td><td class="n">${formatCount(d.laterCopiesAddData[i]!.groups)}</td></tr>`)}
<tr class="total"><td>any column</td><td class="n">${formatCount(d.groupsThatDiffer)}</td><td></td><td></td><td class="n">${formatCount(d.groupsWithAddedData)}</td></tr></tbody></table></div>
${d.phones === null ? '' : html`<p>${formatCount(d.phones.phones)} phones; ${formatCount(d.phones.onSeveralDevices)} on more than one device, ${formatCount(d.phones.forSeveralUsers)} for more than one user.</p>`}
${d.by === undefined ? '' : bySection(data)}</section>

${data.suspects === null ? '' : suspectsSection(data.suspects)}

<section id="constraints"><h2>Unique constraints and indexes on ${data.constraints.table}</h2>
${data.constraints.indexes.length === 0 ? html`<p>None.</p>` : html`<div class="scroll"><table><thead><tr><th>name</th><th>kind</th><th>columns</th><th>valid</th></tr></thead><tbody>${data.constraints.indexes.map((i) => html`<tr><td>${i.name}</td><td>${i.kind}</td><td>${i.elements.join(', ')}</td><td>${i.valid ? 'yes' : 'NO'}</td></tr>`)}</tbody></table></div>`}</section>

<section id="runs"><h2>Last clean-up runs</h2>
${data.runs.length === 0 ? html`<p>No clean-up run recorded for this table.</p>` : html`<div class="scroll"><table><thead><tr><th>run</th><th>status</th><th>started</th><th>key</th><th>mode</th><th>groups</th><th>rows removed</th><th>rows merged</th></tr></thead><tbody>${data.runs.map((r) => html`<tr><td class="n">${r.id}</td><td>${r.status}</td><td>${r.startedAt}</td><td>${r.key}</td><td>${r.mode}</td><td class="n">${formatCount(r.groups)}</td><td class="n">${formatCount(r.rowsRemoved)}</td><td class="n">${formatCount(r.rowsMerged)}</td></tr>`)}</tbody></table></div>`}</section>
</main>
${jsonScript('report-data', { scan: data.scan, diagnose: data.diagnosis, ...(data.suspects === null ? {} : { suspects: data.suspects }) })}
</body></html>
`;
  return page.value;
}

/** Below the figures: one line, and each skipped key's reason folded away. */
function skippedKeysNote(scan: ReportData['scan']): SafeHtml | '' {
  const line = skippedKeysLine(scan.skippedKeys, scan.table);
  if (line === null) return '';
  return html`<details class="note"><summary>${line}</summary><ul>${scan.skippedKeys.map((s) => html`<li>${s.name}: ${s.reason}</li>`)}</ul></details>`;
}

function bySection(data: ReportData): SafeHtml {
  const by = data.diagnosis.by!;
  const rows = [
    ...by.values.map((v) => ({ ...v, label: formatValue(v.value) })),
    ...(by.otherValues === null ? [] : [{ ...by.otherValues, label: '(other values)' }]),
  ];
  return html`<h3>Surplus by ${by.column}</h3><div class="scroll"><table><thead><tr><th>${by.column}</th><th>surplus</th><th>race</th><th>retry</th><th>resubmission</th><th>unknown</th></tr></thead><tbody>
${rows.map((r) => html`<tr><td>${r.label}</td>${[r.surplus, r.race, r.retry, r.resubmission, r.unknown].map((n) => html`<td class="n">${formatCount(n)}</td>`)}</tr>`)}</tbody></table></div>`;
}

/** The groups shown in full; the JSON below the page holds them all. */
const SUSPECT_GROUPS_SHOWN = 20;

/** Near-duplicates the key misses: the counts, then the largest groups with each pair's score and reasons. */
function suspectsSection(report: NonNullable<ReportData['suspects']>): SafeHtml {
  const largest = [...report.groups].sort((x, y) => y.ids.length - x.ids.length || Number(x.group) - Number(y.group)).slice(0, SUSPECT_GROUPS_SHOWN);
  return html`<section id="suspects"><h2>Probably the same lead, not caught by the key</h2>
<p>${formatCount(report.groupCount)} groups of ${formatCount(report.pairCount)} pairs scoring ${report.threshold} or more, out of ${formatCount(report.compared)} candidate pairs the key ${report.key} does not group (${report.blockCounts.map((c) => `${c.block}: ${formatCount(c.pairs)}`).join(', ')}). Names compared by ${report.functions.nameSimilarity}, accents folded by ${report.functions.accents}. Nothing is changed: suspects --plan-out writes them for review.</p>
${
  largest.length === 0
    ? html`<p>None.</p>`
    : html`<div class="scroll"><table><thead><tr><th>group</th><th>rows</th><th>pair</th><th>score</th><th>why</th></tr></thead><tbody>
${largest.map((group) =>
  group.pairs.map(
    (pair, i) =>
      html`<tr>${i === 0 ? html`<td>${group.group}</td><td>${group.ids.join(', ')}</td>` : html`<td></td><td></td>`}<td>${pair.a} – ${pair.b}</td><td class="n">${pair.score.toFixed(1)}</td><td>${pair.reasons}</td></tr>`,
  ),
)}</tbody></table></div>${report.groups.length > largest.length ? html`<p class="note">The ${SUSPECT_GROUPS_SHOWN} largest of ${formatCount(report.groups.length)} groups; all are in the data below the page.</p>` : ''}`
}</section>`;
}
