/**
 * The layers of src/, top to bottom; an import may only point down (or stay
 * within its own folder), and nothing may form a circle. `npm run lint` runs
 * this check; CONTRIBUTING.md describes the layers.
 *
 *   program  → commands → cli → render → core, seed, clean, scan, suspects → sql → keys → db → util → errors.ts
 *
 * src/clean, src/scan and src/suspects are their features' homes
 * (docs/architecture-clean.md, docs/architecture-scan.md): their statement
 * builders (*-sql.ts) are pure, below their executors; they import only other
 * builders, their feature's vocabulary (model.ts) and the layers below.
 */
const LAYERS = ['program', 'commands', 'cli', 'render', 'core|seed|clean|scan|suspects', 'sql', 'keys', 'db', 'util'];

const upward = LAYERS.slice(1).map((layer, index) => ({
  name: `no-upward-from-${layer.replace('|', '-')}`,
  comment: `src/${layer} may only import layers below it`,
  severity: 'error',
  from: { path: `^src/(${layer})/` },
  to: { path: `^src/(${LAYERS.slice(0, index + 1).join('|')})/` },
}));

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'errors-is-a-leaf',
      comment: 'src/errors.ts is imported by every layer and imports none',
      severity: 'error',
      from: { path: '^src/errors\\.ts$' },
      to: { path: '^src/' },
    },
    ...upward,
    {
      name: 'feature-sql-is-pure',
      comment: 'src/{clean,scan,suspects}/**/*-sql.ts build statements only: no executor module of their feature (the runner imports them, never the reverse)',
      severity: 'error',
      from: { path: '^src/(clean|scan|suspects)/.+-sql\\.ts$' },
      to: { path: '^src/$1/', pathNot: ['-sql\\.ts$', '^src/(clean|suspects)/model\\.ts$'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    exclude: { path: '^(dist|node_modules)' },
  },
};
