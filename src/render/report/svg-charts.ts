import { formatCount } from '../common/format.js';
import { html, type SafeHtml } from './safe-html.js';

/**
 * Hand-drawn SVG charts: horizontal bars, a stacked share bar and a column
 * chart. A few dozen lines each, no dependency, no script: the page stays one
 * static file that prints and scales (viewBox, width 100%). The drawing is as
 * wide as a phone's page (380 units for 12px text), so on a 390px screen the
 * labels still read at 11px or more; wider screens show it up to 1.4 times.
 */
export interface Bar {
  label: string;
  value: number;
}

const WIDTH = 380;

export function barChart(title: string, bars: Bar[], color = '#2f6db5'): SafeHtml {
  const row = 24;
  // about 7 units per character at the 12px chart font, so the longest label fits
  const labelWidth = Math.min(180, 16 + 7 * Math.max(4, ...bars.map((b) => b.label.length)));
  const valueWidth = 80;
  const largest = Math.max(1, ...bars.map((b) => b.value));
  const area = WIDTH - labelWidth - valueWidth;
  const height = bars.length * row + 4;
  return html`<svg class="chart" role="img" viewBox="0 0 ${WIDTH} ${height}" width="100%" preserveAspectRatio="xMinYMin meet"><title>${title}</title>${bars.map(
    (bar, i) => {
      const width = bar.value === 0 ? 0 : Math.max(2, Math.round((bar.value / largest) * area));
      const y = i * row + 2;
      return html`<text x="${labelWidth - 8}" y="${y + 16}" text-anchor="end">${bar.label}</text><rect x="${labelWidth}" y="${y + 3}" width="${width}" height="${row - 8}" fill="${color}"/><text x="${labelWidth + width + 6}" y="${y + 16}">${formatCount(bar.value)}</text>`;
    },
  )}</svg>`;
}

export function shareBar(title: string, parts: (Bar & { color: string })[]): SafeHtml {
  const total = parts.reduce((sum, p) => sum + p.value, 0);
  let x = 0;
  const segments = parts.map((part) => {
    const width = total === 0 ? 0 : (part.value / total) * WIDTH;
    const segment = html`<rect x="${x.toFixed(1)}" y="0" width="${width.toFixed(1)}" height="28" fill="${part.color}"><title>${part.label}: ${formatCount(part.value)}</title></rect>`;
    x += width;
    return segment;
  });
  // two legend entries per row: "resubmission 12,345" needs about half the width
  const legend = parts.map((part, i) => {
    const x = (i % 2) * (WIDTH / 2);
    const y = 40 + Math.floor(i / 2) * 20;
    return html`<rect x="${x}" y="${y}" width="12" height="12" fill="${part.color}"/><text x="${x + 16}" y="${y + 11}">${part.label} ${formatCount(part.value)}</text>`;
  });
  const height = 40 + Math.ceil(parts.length / 2) * 20;
  return html`<svg class="chart" role="img" viewBox="0 0 ${WIDTH} ${height}" width="100%"><title>${title}</title>${segments}${legend}</svg>`;
}

/** Columns for `bars`, and `line` drawn over them on its own scale (e.g. duplicates per day, leads per day). */
export function columnChart(title: string, points: { label: string; bar: number; line: number }[], legend: { bar: string; line: string }): SafeHtml {
  const height = 190;
  const top = 44;
  const bottom = 22;
  const plot = height - top - bottom;
  const step = WIDTH / Math.max(1, points.length);
  const largestBar = Math.max(1, ...points.map((p) => p.bar));
  const largestLine = Math.max(1, ...points.map((p) => p.line));
  const columns = points.map((p, i) => {
    const h = (p.bar / largestBar) * plot;
    return html`<rect x="${(i * step + step * 0.15).toFixed(1)}" y="${(top + plot - h).toFixed(1)}" width="${(step * 0.7).toFixed(1)}" height="${h.toFixed(1)}" fill="#c0392b"><title>${p.label}: ${formatCount(p.bar)} ${legend.bar}, ${formatCount(p.line)} ${legend.line}</title></rect>`;
  });
  const line = points.map((p, i) => `${(i * step + step / 2).toFixed(1)},${(top + plot - (p.line / largestLine) * plot).toFixed(1)}`).join(' ');
  const first = points[0]?.label ?? '';
  const last = points.at(-1)?.label ?? '';
  return html`<svg class="chart" role="img" viewBox="0 0 ${WIDTH} ${height}" width="100%"><title>${title}</title>
<rect x="0" y="4" width="12" height="12" fill="#c0392b"/><text x="16" y="15">${legend.bar} (max ${formatCount(largestBar)})</text>
<line x1="0" y1="30" x2="12" y2="30" stroke="#7f8c8d" stroke-width="2"/><text x="16" y="35">${legend.line} (own scale, max ${formatCount(largestLine)})</text>
${columns}<polyline points="${line}" fill="none" stroke="#7f8c8d" stroke-width="2"/>
<line x1="0" y1="${top + plot}" x2="${WIDTH}" y2="${top + plot}" stroke="#999"/>
<text x="0" y="${height - 4}">${first}</text><text x="${WIDTH}" y="${height - 4}" text-anchor="end">${last}</text></svg>`;
}
