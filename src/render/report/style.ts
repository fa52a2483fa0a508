import { SafeHtml } from './safe-html.js';

/** Inline CSS: system fonts only; tables scroll sideways on a phone; print drops the scroll boxes and keeps sections whole. */
export const STYLE = new SafeHtml(`
:root { color-scheme: light; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; background: #fff; }
main { max-width: 960px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.5rem; margin: 0 0 4px; } h2 { font-size: 1.15rem; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
code { font-size: .95em; } .meta, .note { color: #555; font-size: .9rem; }
.answers li { margin-bottom: 10px; } .answers p { margin: 2px 0 0; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; margin: 8px 0; }
table { border-collapse: collapse; font-size: .9rem; min-width: 100%; }
th, td { padding: 4px 8px; border-bottom: 1px solid #eee; text-align: left; white-space: nowrap; }
th { background: #f5f5f5; } td.n { text-align: right; font-variant-numeric: tabular-nums; } tr.total td { font-weight: 600; }
svg.chart { display: block; max-width: min(100%, 532px); height: auto; margin: 8px 0; font-size: 12px; }
svg.chart text { fill: #333; }
@media (max-width: 600px) { body { font-size: 14px; } main { padding: 10px; } th, td { padding: 3px 5px; } }
@media print { main { max-width: none; padding: 0; } .scroll { overflow: visible; } th, td { white-space: normal; }
  section { break-inside: avoid; } h2 { break-after: avoid; } }
`);
