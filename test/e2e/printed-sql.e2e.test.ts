import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli } from '../support/cli.js';
import { CLI_DATABASE_LABEL, type CliDatabase, openCliDatabase } from '../support/cli-database.js';

/**
 * Issue 28 item 9: SQL a user may paste is printed whole at any width. index add's dry run at 80
 * columns prints the digits rule's function, whose string literal holds the Unicode digits (multibyte);
 * pasted as printed (psql -f on the server, statement by statement on PGlite), it builds the same
 * function and index as `index add --execute`: pg_get_functiondef and pg_get_indexdef compared.
 */
describe(`printed SQL pastes back to the same objects (built binary, ${CLI_DATABASE_LABEL})`, () => {
  let db: CliDatabase;
  const key = ['--key', 'device-phone', '--normalize', 'phone=digits'];
  const cli = (args: string[]) => runCli([...args, '--database', db.database], { env: { COLUMNS: '80' } });

  beforeAll(async () => {
    assertBuilt();
    db = await openCliDatabase('lead-dedupe-printed-sql-');
    expect((await cli(['seed', '--rows', '500'])).code).toBe(0);
  });
  afterAll(async () => db?.close());

  /** The function and index the key's index consists of, as the server deparses them. */
  async function built(): Promise<{ functions: string[]; index: string | null }> {
    const functions = await db.query<{ def: string }>(
      `select pg_get_functiondef(p.oid) as def from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'lead_dedupe' order by p.proname`,
    );
    const indexes = await db.query<{ def: string }>(
      `select pg_get_indexdef(indexrelid) as def from pg_index where indrelid = 'public.leads'::regclass and not indisprimary`,
    );
    expect(indexes.length).toBeLessThanOrEqual(1);
    return { functions: functions.map((row) => row.def), index: indexes[0]?.def ?? null };
  }

  async function dropBuilt(): Promise<void> {
    await db.query('drop schema if exists lead_dedupe cascade');
    expect(await built()).toEqual({ functions: [], index: null });
  }

  it('index add --execute and its dry run pasted build the same function and index', async () => {
    const dryRun = await cli(['index', 'add', ...key]);
    expect(dryRun.code, dryRun.stderr).toBe(0);
    const lines = dryRun.stdout.split('\n');
    const printed = lines
      .slice(
        lines.findIndex((line) => line.endsWith(' with:')) + 1,
        lines.findIndex((line) => line.startsWith('dry run:')),
      )
      .join('\n');
    // the literal is there whole, Unicode digits and all (a wrap inside it would change the function)
    expect(printed).toMatch(/'[^']*٠١٢٣٤٥٦٧٨٩[^'\n]*'/);
    // each statement starts on a line of its own, two spaces in; its other lines are as the server gets them
    const statements = printed.split(/\n(?= {2}\S)/).map((statement) => statement.trim());
    expect(statements.map((statement) => statement.split(' ').slice(0, 2).join(' '))).toEqual(['create schema', 'create function', 'create index']);
    if (db.database.startsWith('pglite:')) {
      for (const statement of statements) await db.query(statement);
    } else {
      const file = join(db.dir, 'pasted.sql');
      writeFileSync(file, `${statements.join('\n')}\n`);
      execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db.database, '-f', file]);
    }
    const pasted = await built();
    expect(pasted.functions).toHaveLength(1);
    expect(pasted.index).toMatch(/lead_dedupe\.digits_v1\(phone\)/);

    await dropBuilt();
    const executed = await cli(['index', 'add', ...key, '--execute']);
    expect(executed.code, executed.stderr).toBe(0);
    expect(await built()).toEqual(pasted);
  });
});
