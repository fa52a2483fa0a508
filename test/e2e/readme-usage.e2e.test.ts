import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { assertBuilt } from '../support/cli.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/readme-usage.mjs', import.meta.url));

/** The README's usage blocks are the program's own --help: a flag added or reworded without `node scripts/readme-usage.mjs` fails here. */
describe('README usage blocks', () => {
  it("equal the built binary's --help for every command", async () => {
    assertBuilt();
    const result = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(process.execPath, [SCRIPT, '--check'], (error, _stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stderr })),
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});
