/**
 * The layers of src/, top to bottom; an import may only point down (or stay
 * within its own folder), and nothing may form a circle. `npm run lint` runs
 * this check; CONTRIBUTING.md describes the layers.
 *
 *   program  → commands → cli → render → core, seed, clean → sql → keys → db → util → errors.ts
 *
 * src/clean is the clean feature's one home (docs/architecture-clean.md): its
 * statement builders (*-sql.ts) are pure, below its executor; they import
 * only other builders, the clean vocabulary (model.ts) and the layers below.
 */
const LAYERS = ['program', 'commands', 'cli', 'render', 'core|seed|clean', 'sql', 'keys', 'db', 'util'];

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
      name: 'clean-sql-is-pure',
      comment: 'src/clean/**/*-sql.ts build statements only: no executor module of src/clean (the runner imports them, never the reverse)',
      severity: 'error',
      from: { path: '^src/clean/.+-sql\\.ts$' },
      to: { path: '^src/clean/', pathNot: ['-sql\\.ts$', '^src/clean/model\\.ts$'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    exclude: { path: '^(dist|node_modules)' },
  },
};
