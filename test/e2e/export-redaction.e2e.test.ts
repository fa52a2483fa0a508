import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli } from '../support/cli.js';
import { CLI_DATABASE_LABEL, openCliDatabase, type CliDatabase } from '../support/cli-database.js';

type Row = Record<string, string>;

/**
 * scan --details and clean --plan-csv with --redact (docs/privacy.md): no phone, e-mail or name of
 * the table anywhere in the file (oracle: every value selected from the table by SQL, looked for in
 * the file's text), equal values still equal (the same masked token), and the plan file written beside
 * a redacted CSV still applies.
 */
describe(`--redact on the CSV exports (built binary, ${CLI_DATABASE_LABEL})`, () => {
  let db: CliDatabase;
  const cli = (...args: string[]) => runCli([...args, '--database', db.database]);
  const file = (name: string) => join(db.dir, name);
  let people: { id: string; phone: string | null; email: string | null; name: string | null }[];

  beforeAll(async () => {
    assertBuilt();
    db = await openCliDatabase('lead-dedupe-export-redaction-');
    expect((await cli('seed', '--rows', '1200')).code).toBe(0);
    people = await db.query('select id::text as id, phone, email, name from leads');
  });
  afterAll(async () => db?.close());

  /** Every phone, e-mail and name of the table (also each phone's digits alone) that occurs in the text. */
  function rawValuesIn(text: string): string[] {
    const values = new Set(people.flatMap((p) => [p.phone, p.phone?.replace(/\D/g, ''), p.email, p.name]).filter((v): v is string => !!v));
    return [...values].filter((value) => text.includes(value));
  }

  /** Equal raw values (by the table, through each row's id) ⇔ equal masked values. */
  function expectConsistent(rows: Row[], column: 'phone' | 'email' | 'name', masked: (row: Row) => string) {
    const raw = new Map(people.map((p) => [p.id, p[column]]));
    const byRaw = new Map<string | null, Set<string>>();
    for (const row of rows) {
      const value = raw.get(row.id!)!;
      byRaw.set(value, (byRaw.get(value) ?? new Set()).add(masked(row)));
    }
    for (const tokens of byRaw.values()) expect(tokens.size).toBe(1);
    const tokens = [...byRaw.entries()].filter(([value]) => value !== null).map(([, set]) => [...set][0]);
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(byRaw.size).toBeGreaterThan(10);
  }

  it('scan --details --redact: no raw phone, e-mail or name; equal values share a token; ids, times and counts as in the raw export', async () => {
    const raw = await cli('scan', '--key', 'device-phone', '--details', file('raw.csv'), '--quiet');
    const masked = await cli('scan', '--key', 'device-phone', '--details', file('masked.csv'), '--redact', '--format', 'json');
    expect([raw.code, masked.code]).toEqual([0, 0]);
    const rawText = readFileSync(file('raw.csv'), 'utf8');
    const text = readFileSync(file('masked.csv'), 'utf8');
    expect(rawValuesIn(rawText).length).toBeGreaterThan(100); // the oracle finds them where they are
    expect(rawValuesIn(text)).toEqual([]);
    expect(rawValuesIn(masked.stdout)).toEqual([]); // the report on stdout too
    const rows = parse(text, { columns: true }) as Row[];
    const rawRows = parse(rawText, { columns: true }) as Row[];
    expect(rows.map((r) => [r.id, r.rank_in_group, r.keep, r.created_at])).toEqual(rawRows.map((r) => [r.id, r.rank_in_group, r.keep, r.created_at]));
    for (const column of ['phone', 'email', 'name'] as const) expectConsistent(rows, column, (row) => row[column]!);
    // the group id (the md5 of the key, which phones are few enough to reverse) is a keyed tag, one per group
    expect(rows.every((row) => /^#[0-9a-f]{12}$/.test(row.group_id!))).toBe(true);
    expect(new Set(rows.map((r) => r.group_id)).size).toBe(new Set(rawRows.map((r) => r.group_id)).size);
  });

  it('clean --plan-csv --redact: no raw value, equal values share a token; the plan file beside it still applies', async () => {
    const key = ['--key', 'device-phone', '--normalize', 'phone=e164', '--default-country', 'MY'];
    const written = await cli('clean', ...key, '--plan-csv', file('plan.csv'), '--plan-out', file('plan.jsonl'), '--redact', '--quiet');
    expect(written.code, written.stderr).toBe(0);
    const text = readFileSync(file('plan.csv'), 'utf8');
    expect(rawValuesIn(text)).toEqual([]);
    const rows = parse(text, { columns: true }) as Row[];
    expectConsistent(rows, 'phone', (row) => row.stored_phone!);
    expect(rows.every((row) => /^#[0-9a-f]{12}$/.test(row.group_id!) && /#[0-9a-f]{6}$/.test(row.key_phone!))).toBe(true);
    // created times and ids stay readable: the keeper of each group is its oldest row
    expect(rows.filter((row) => row.action === 'keep').every((row) => !Number.isNaN(Date.parse(row.stored_created_at!)))).toBe(true);

    // --redact needs the CSV: a plan file is applied against the table and keeps the raw values
    const refused = await cli('clean', ...key, '--plan-out', file('other.jsonl'), '--redact');
    expect(refused).toMatchObject({ code: 2, stdout: '' });
    expect(refused.stderr).toBe(
      'lead-dedupe: --redact masks the customer values of --plan-csv; a plan file (--plan-out) is applied against the table and keeps them\n',
    );
    const applied = await cli('clean', '--plan', file('plan.jsonl'), '--execute', '--format', 'json');
    expect(applied.code, applied.stderr).toBe(0);
    expect(JSON.parse(applied.stdout).rowsRemoved).toBe(rows.filter((row) => row.action === 'remove').length);
  });
});
