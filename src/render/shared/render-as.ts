/** Every format a report can be printed in; each command offers a subset (its --format choices). */
export type Format = 'table' | 'json' | 'csv' | 'sql' | 'html';

/** The formats most reports offer (scan, diagnose, runs); the default of OutputFlags. */
export type OutputFormat = 'table' | 'json' | 'csv';

/**
 * One entry per format the report offers. `json` returns the value to serialise rather than
 * text, so every JSON report is written the same way (2-space indent, trailing newline).
 */
export type FormatRenderers<F extends Format> = { [K in F]: K extends 'json' ? () => unknown : () => string };

/**
 * The one format switch: `renderAs(format, { table: () => …, json: () => report })`.
 * F comes from `format` alone (NoInfer), so leaving out a format the report offers is a type
 * error, and so is an entry for a format it does not offer. Only the chosen entry runs.
 */
export function renderAs<F extends Format>(format: F, renderers: FormatRenderers<NoInfer<F>>): string {
  // TypeScript cannot narrow the mapped type by a check on F, hence the widening.
  const render: () => unknown = renderers[format];
  return format === 'json' ? `${JSON.stringify(render(), null, 2)}\n` : (render() as string);
}
