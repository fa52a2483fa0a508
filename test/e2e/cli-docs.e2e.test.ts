import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { assertBuilt } from '../support/cli.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/generate-docs.mjs', import.meta.url));

/** docs/cli/*.md and man/lead-dedupe.1 are the program's own --help and `man`: a flag added or reworded without `npm run docs` fails here. */
describe('generated command reference and man page', () => {
  it("equal the built binary's --help for every command, and nothing else is in docs/cli", async () => {
    assertBuilt();
    const result = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(process.execPath, [SCRIPT, '--check'], (error, _stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stderr })),
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});
