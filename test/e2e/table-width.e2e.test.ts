import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, PRINTED_INVOCATION, runCli, startInTerminal } from '../support/cli.js';

/**
 * Issue 10 item 11: every report the tool prints as a table fits the width ($COLUMNS here,
 * output piped), at 80 and at 200 columns, and nothing is cut on the way: the text of every
 * cell is still there, across wrapped lines. Issue 28 items 8 and 12: the width follows psql
 * (the terminal's, through a pseudo-terminal at 80 and 120 columns; $COLUMNS through a pipe;
 * nothing wrapped through a pipe without it), and runs is a table whenever it fits.
 */
describe('tables fit the width (built binary, PGlite)', () => {
  let dir: string;
  let db: string[];
  const cli = (args: string[], columns: number) => runCli([...args, ...db], { env: { COLUMNS: String(columns) } });
  /** The report's words with the box drawing and wrapping taken out, for "is it all still there". */
  const words = (text: string) =>
    text
      .replace(/[│┌┐└┘├┤┬┴┼─]/g, ' ')
      .split(/\s+/)
      .filter(Boolean);

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-width-'));
    db = ['--database', `pglite:${join(dir, 'db')}`];
    expect((await runCli(['seed', '--rows', '3000', ...db])).code).toBe(0);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Every line fits but what is pasted (a command on a line of its own, an SQL statement ending in ;), which is never wrapped. */
  function expectFits(text: string, width: number): void {
    const pasted = (line: string) => line.trimStart().startsWith(`${PRINTED_INVOCATION} `) || /^ +\S.*;$/.test(line);
    const over = text.split('\n').filter((line) => line.length > width && !pasted(line));
    expect(over, `lines wider than ${width}`).toEqual([]);
  }

  it.each([80, 200])(
    'the clean dry run fits %i columns with every merge column and sample id',
    async (width) => {
      const plan = JSON.parse((await cli(['clean', '--key', 'device-phone', '--format', 'json'], width)).stdout);
      const result = await cli(['clean', '--key', 'device-phone'], width);
      expect(result.code).toBe(0);
      expectFits(result.stdout, width);
      const text = words(result.stdout).join(' ');
      // the merge-columns row is the widest: all of it is there, in order, across its lines
      expect(text).toContain(plan.mergeColumns.join(', '));
      const shown = new Set(words(result.stdout).map((word: string) => word.replace(/,$/, '')));
      for (const group of plan.sample) {
        expect(shown).toContain(String(group.keeper));
        for (const loser of group.losers.slice(0, 8)) expect(shown).toContain(String(loser));
      }
    },
    60_000,
  );

  it.each([80, 200])(
    'scan, diagnose, constraint status and seed fit %i columns',
    async (width) => {
      for (const args of [['scan'], ['scan', '--key', 'device-phone'], ['diagnose', '--key', 'device-phone', '--by', 'source'], ['constraint', 'status']]) {
        const result = await cli(args, width);
        expect(result.code, args.join(' ')).toBe(0);
        expectFits(result.stdout, width);
      }
      const scan = JSON.parse((await cli(['scan', '--key', 'device-phone', '--format', 'json'], width)).stdout);
      const shown = new Set(words((await cli(['scan', '--key', 'device-phone'], width)).stdout).map((word) => word.replace(/,$/, '')));
      for (const group of scan.keys[0].top) for (const id of group.ids) expect(shown).toContain(String(id));
      const seeded = await runCli(['seed', '--rows', '500', '--table', `w${width}`, ...db], { env: { COLUMNS: String(width) } });
      expect(seeded.code).toBe(0);
      expectFits(seeded.stdout, width);
    },
    120_000,
  );

  it('clean result, runs, restore and constraint add/drop fit 80 and 200 columns', async () => {
    const executed = await cli(['clean', '--key', 'device-phone', '--execute'], 80);
    expect(executed.code).toBe(0);
    expectFits(executed.stdout, 80);
    for (const width of [80, 200]) {
      const runs = await cli(['runs'], width);
      expectFits(runs.stdout, width);
      expect(runs.stdout).toContain('postgres@');
      expectFits((await cli(['restore', '1'], width)).stdout, width);
    }
    // at 200 the runs table is one row per run, every column; at 80 a short card per run (what every run shares said once above)
    expect((await cli(['runs'], 200)).stdout).toMatch(/│ run │ status .*│ user@host +│/);
    expect((await cli(['runs'], 80)).stdout).toMatch(
      /^the run: on public\.leads, keep oldest, mode merge, 0 groups skipped, by\s+postgres@\S+;[\s\S]*│ run +│ 1 +│/,
    );
    // constraint add: the dry run at both widths, then for real at 80; drop (dry run at both, then for real) at 200, add again at 200
    for (const width of [80, 200]) {
      for (const dryWidth of [80, 200]) expectFits((await cli(['constraint', 'add', '--key', 'device-phone'], dryWidth)).stdout, dryWidth);
      const added = await cli(['constraint', 'add', '--key', 'device-phone', '--execute'], width);
      expect(added.code).toBe(0);
      expectFits(added.stdout, width);
      expect(added.stdout).toContain('leads_device_id_phone_key');
      for (const dryWidth of [80, 200]) expectFits((await cli(['constraint', 'drop', 'leads_device_id_phone_key'], dryWidth)).stdout, dryWidth);
      const dropped = await cli(['constraint', 'drop', 'leads_device_id_phone_key', '--execute'], width);
      expect(dropped.code).toBe(0);
      expectFits(dropped.stdout, width);
    }
  }, 180_000);
  /** The report as a user at a terminal of that size sees it: no $COLUMNS, no spinner (TERM=dumb), stdout and stderr. */
  async function onTerminal(args: string[], columns: number): Promise<string> {
    const run = startInTerminal([...args, ...db], { rows: 50, cols: columns }, { env: { COLUMNS: undefined, TERM: 'dumb' } });
    const done = await run.done;
    expect(done.code, done.stdout).toBe(0);
    return done.stdout.replace(/\r/g, '');
  }
  const piped = async (args: string[]) => (await runCli([...args, ...db], { env: { COLUMNS: undefined } })).stdout;

  it('runs is one table on a 120-column terminal, short cards on an 80-column one, every column through a pipe', async () => {
    const atWide = await onTerminal(['runs'], 120);
    expectFits(atWide, 120);
    // one row per run: the header's words and run 1 on lines of their own, as wide as the terminal allows
    expect(atWide).toMatch(/\n│ run │ status │ started \(UTC\) +│ finished │ key +│ groups │ removed │ merged │ child rows moved │\n/);
    expect(atWide).toMatch(/\n│ 1 {3}│ done {3}│ \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    expect(Math.max(...atWide.split('\n').map((line) => line.length))).toBeGreaterThan(100);
    // $COLUMNS through a pipe lays it out as the terminal of that width does
    expect((await cli(['runs'], 120)).stdout).toBe(atWide);
    const atNarrow = await onTerminal(['runs'], 80);
    expectFits(atNarrow, 80);
    expect(atNarrow).toMatch(/│ run +│ 1 +│/);
    expect(atNarrow.split('\n').filter((line) => line.startsWith('│')).length).toBeLessThanOrEqual(9);
    // a pipe without $COLUMNS: nothing wraps, every column on the header line (as psql)
    const unwrapped = await piped(['runs']);
    expect(unwrapped.split('\n')[1]).toMatch(
      /^│ run │ status │ started \(UTC\) +│ finished │ table +│ key +│ keep +│ mode +│ groups │ removed │ merged │ child rows moved +│ skipped │ user@host +│$/,
    );
  }, 120_000);

  it('a pipe without $COLUMNS wraps nothing; a terminal at 80 and 120 fits', async () => {
    const args = ['diagnose', '--key', 'device-phone', '--by', 'source'];
    const answers: { answer: string }[] = JSON.parse(await piped([...args, '--format', 'json'])).answers;
    const unwrapped = await piped(args);
    // every answer on one line of its own, however long
    for (const { answer } of answers) expect(unwrapped.split('\n')).toContain(`   ${answer}`);
    expect(Math.max(...unwrapped.split('\n').map((line) => line.length))).toBeGreaterThan(120);
    for (const columns of [80, 120]) {
      const text = await onTerminal(args, columns);
      expectFits(text, columns);
      // the commands the answers suggest stay whole, each on its own line
      for (const command of answers.flatMap(({ answer }) => answer.match(/lead-dedupe sql upsert [^;]*?--on-duplicate \w+/g) ?? [])) {
        expect(text).toContain(command);
      }
    }
  }, 120_000);
});
