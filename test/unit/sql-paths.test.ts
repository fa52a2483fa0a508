import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importGraphOfSrc, type ImportGraph, sqlPathOf } from '../support/sql-paths.js';

/**
 * How many files a reader crosses from a command to the SQL it runs (the
 * measure: test/support/sql-paths.ts). A command that grows past its budget
 * fails here: give its statements a home (src/clean is the model) rather than
 * raise the figure.
 */
const DEFAULT_BUDGET = 10;
const BUDGETS: Record<string, number> = {
  // clean reaches its whole feature (preview, plan file, restore, runs, print-sql);
  // its statements sit in one folder, at most 4 imports away (docs/architecture-clean.md)
  'clean.ts': 18,
  'clean-execute.ts': 15,
};

describe('the measure', () => {
  const graph: ImportGraph = {
    'src/commands/a.ts': ['src/core/a.ts', 'src/cli/flags.ts'],
    'src/core/a.ts': ['src/sql/a-plan.ts', 'src/core/b.ts', 'src/db/x.ts'],
    'src/core/b.ts': ['src/feature/b-sql.ts', 'src/sql/a-plan.ts'],
    'src/cli/flags.ts': ['src/util/words.ts', 'src/feature/model.ts'],
    'src/sql/a-plan.ts': ['src/sql/shared-plan.ts', 'src/keys/key.ts'],
    'src/feature/b-sql.ts': [],
  };

  it('counts the non-builder files on the shortest paths to each builder reached, the command included', () => {
    expect(sqlPathOf(graph, 'src/commands/a.ts')).toEqual({
      files: ['src/commands/a.ts', 'src/core/a.ts', 'src/core/b.ts'],
      builders: ['src/feature/b-sql.ts', 'src/sql/a-plan.ts'],
      hops: 3,
    });
  });

  it('does not walk through a builder, nor count files that lead to none', () => {
    const { builders, files } = sqlPathOf(graph, 'src/commands/a.ts');
    expect(builders).not.toContain('src/sql/shared-plan.ts');
    expect(builders).not.toContain('src/feature/model.ts');
    expect(files).not.toContain('src/cli/flags.ts');
  });
});

describe('files crossed from each command to its SQL', () => {
  const graph = importGraphOfSrc();
  const commands = readdirSync(fileURLToPath(new URL('../../src/commands', import.meta.url))).filter((name) => name !== 'index.ts');

  it.each(commands)('%s stays within its budget', (command) => {
    const { files } = sqlPathOf(graph, `src/commands/${command}`);
    const budget = BUDGETS[command] ?? DEFAULT_BUDGET;
    // the files themselves in the failure, so the reader sees which path grew
    expect({ command, crossed: files.length <= budget ? `within ${budget}` : files }).toEqual({ command, crossed: `within ${budget}` });
  });
});
