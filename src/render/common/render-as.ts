import { fitLines, type TextLine } from './wrap.js';

/**
 * What a report is rendered for, decided once in src/cli/output.ts (renderers stay pure): the width
 * tables and prose fit, and what every JSON report carries at its top: when it was generated and
 * from which database (never a password).
 */
export interface RenderContext {
  /** $COLUMNS when set, else the terminal's; Infinity (no wrapping, as psql) for a pipe or a file. */
  width: number;
  generatedAt: string;
  database: string;
  /** How suggested commands start (src/cli/invocation.ts): their lines are never wrapped. */
  invocation?: string;
}

/** Every format a report can be printed in; each command offers a subset (its --format choices). */
export type Format = 'table' | 'json' | 'csv' | 'sql' | 'html';

/** The formats most reports offer (scan, diagnose, runs); the default of OutputFlags. */
export type OutputFormat = 'table' | 'json' | 'csv';

/**
 * One entry per format the report offers. `table` may mark lines to paste (SQL) verbatim, never
 * wrapped. `json` returns the value to serialise rather than text, so every JSON report is written the same way (2-space indent, trailing newline, and
 * `generatedAt` and `database` first); it returns an object, never a bare array.
 */
export type FormatRenderers<F extends Format> = {
  [K in F]: K extends 'json' ? () => unknown : K extends 'table' ? () => string | readonly TextLine[] : () => string;
};

/**
 * The one format switch: `renderAs(format, { table: () => …, json: () => report })`.
 * F comes from `format` alone (NoInfer), so leaving out a format the report offers is a type
 * error, and so is an entry for a format it does not offer. Only the chosen entry runs.
 */
export function renderAs<F extends Format>(format: F, renderers: FormatRenderers<NoInfer<F>>, context: RenderContext): string {
  // TypeScript cannot narrow the mapped type by a check on F, hence the widening.
  const render: () => unknown = renderers[format];
  if (format === 'json') return `${JSON.stringify({ ...jsonMetadata(context), ...(render() as object) }, null, 2)}\n`;
  // Tables fit already; a long line of prose around them wraps, so the report fits the width as a whole.
  return format === 'table' ? fitLines(render() as string | readonly TextLine[], context.width) : (render() as string);
}

/** What every JSON report carries first (renderAs, and streamedJson for a report written piece by piece). */
export function jsonMetadata(context: Pick<RenderContext, 'generatedAt' | 'database'>): { generatedAt: string; database: string } {
  return { generatedAt: context.generatedAt, database: context.database };
}
