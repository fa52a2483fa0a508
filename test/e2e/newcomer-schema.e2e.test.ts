import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatabaseTarget } from '../../src/db/database-target.js';
import { withDatabase } from '../../src/db/with-database.js';
import { PRESET_KEYS } from '../../src/keys/presets.js';
import { assertBuilt, runCli, startInTerminal } from '../support/cli.js';
import { CLI_DATABASE_LABEL, type CliDatabase, openCliDatabase } from '../support/cli-database.js';

/**
 * Issue 28 items 5, 7 and 8 on a newcomer's own schema: uuid ids, the phone in `mobile` (stored with
 * spaces), `source`, `device`, `created`, a child table. No preset fits it as it is.
 */
const FIXTURE = [
  `create table public.leads (id uuid primary key default gen_random_uuid(), mobile text, source text, device text, created timestamptz not null)`,
  `create table public.notes (id bigint generated always as identity primary key, lead_id uuid references public.leads (id), body text)`,
  `insert into public.leads (mobile, source, device, created)
   select '+60 12-345 ' || lpad((g % 40)::text, 4, '0'), (array['web', 'ads'])[1 + g % 2],
          case when g % 40 < 15 then 'dev' || (g % 3) else 'dev-fixed' end,
          timestamptz '2026-03-01 00:00:00+00' + g * interval '17 minutes 3.25 seconds'
   from generate_series(1, 400) as g`,
  `insert into public.notes (lead_id, body) select id, 'called' from public.leads order by created limit 50`,
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe(`a newcomer's own schema (built binary, ${CLI_DATABASE_LABEL})`, () => {
  let db: CliDatabase;
  let base: string[];
  let missing: string[];
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli([...args, ...base], { env: { COLUMNS: undefined, ...env } });

  beforeAll(async () => {
    assertBuilt();
    db = await openCliDatabase('lead-dedupe-newcomer-');
    // a PGlite directory is created here, as seed would (a server database exists already)
    await withDatabase(parseDatabaseTarget(db.database), async () => undefined, { createPglite: true });
    for (const statement of FIXTURE) await db.query(statement);
    base = ['--database', db.database, '--created-column', 'created'];
    // The preset columns the table lacks, from the catalog; under --map phone=mobile the phone is there.
    const columns = (await db.query<{ name: string }>(`select attname as name from pg_attribute where attrelid = 'public.leads'::regclass and attnum > 0`)).map(
      (row) => row.name,
    );
    missing = [...new Set(PRESET_KEYS.flatMap((key) => key.columns))].filter((column) => column !== 'phone' && !columns.includes(column));
  });
  afterAll(async () => db?.close());

  const skippedLine = (count: number, columns: string[]) =>
    `${count} presets skipped: columns not in public.leads (${columns.join(', ')}); --key <column>,<column> names your own`;

  it('scan and constraint status say in one line which presets were skipped; JSON keeps each reason', async () => {
    const presetsWithoutPhone = PRESET_KEYS.filter((key) => key.columns.some((column) => missing.includes(column)));
    const expected = skippedLine(
      presetsWithoutPhone.length,
      missing.filter((column) => presetsWithoutPhone.some((key) => key.columns.includes(column))),
    );
    for (const command of [['scan'], ['constraint', 'status']]) {
      const text = await cli([...command, '--map', 'phone=mobile']);
      expect(text.code, text.stderr).toBe(0);
      const lines = text.stdout.split('\n');
      expect(
        lines.filter((line) => line.includes('skipped')),
        command.join(' '),
      ).toEqual([expected]);
      expect(text.stdout).not.toContain('not found');
      const json = JSON.parse((await cli([...command, '--map', 'phone=mobile', '--format', 'json'])).stdout);
      expect(json.skippedKeys.map((key: { name: string }) => key.name)).toEqual(presetsWithoutPhone.map((key) => key.name));
      for (const key of json.skippedKeys) expect(key.reason).toMatch(/not found in public\.leads/);
    }
    // No preset at all: scan refuses in one line; constraint status lists the indexes and the line.
    const refused = await cli(['scan']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`lead-dedupe: no key can be scanned; ${skippedLine(PRESET_KEYS.length, [...missing, 'phone'].sort(byPresetOrder))}\n`);
    const status = await cli(['constraint', 'status']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout.split('\n').filter((line) => line.includes('skipped'))).toEqual([
      skippedLine(PRESET_KEYS.length, [...missing, 'phone'].sort(byPresetOrder)),
    ]);
  });

  it('the report says it once, below the scan figures, with the reasons folded away', async () => {
    const output = join(db.dir, 'report.html');
    const result = await cli(['report', '--map', 'phone=mobile', '--key', 'phone', '--output', output]);
    expect(result.code, result.stderr).toBe(0);
    const html = readFileSync(output, 'utf8');
    const scanSection = html.slice(html.indexOf('<section id="scan">'), html.indexOf('</section>', html.indexOf('<section id="scan">')));
    expect(html.slice(0, html.indexOf('<section id="scan">'))).not.toContain('skipped');
    expect(scanSection.match(/presets skipped/g)).toHaveLength(1);
    expect(scanSection.indexOf('presets skipped')).toBeGreaterThan(scanSection.lastIndexOf('</svg>'));
    expect(scanSection).toMatch(/<details class="note"><summary>\d presets skipped: columns not in public\.leads \(/);
  });

  it('diagnose finds the phone in mobile, normalised with e164 or mapped with --map phone=mobile', async () => {
    const [spread] = await db.query<{ phones: string; devices: string }>(`
      select count(*)::text as phones, count(*) filter (where devices > 1)::text as devices
      from (select mobile, count(distinct device) as devices from public.leads where mobile is not null group by mobile) as per_phone`);
    for (const args of [
      ['--key', 'mobile,source', '--normalize', 'mobile=e164', '--default-country', 'MY'],
      ['--key', 'mobile,source', '--map', 'phone=mobile'],
    ]) {
      const noDevice = JSON.parse((await cli(['diagnose', ...args, '--format', 'json'])).stdout);
      expect(noDevice.phones, args.join(' ')).toMatchObject({ column: 'mobile', deviceColumn: null, phones: Number(spread!.phones) });
      expect(noDevice.answers[1].answer).toContain('public.leads has no device column (map one with --map device_id=<column>)');
      const report = JSON.parse((await cli(['diagnose', ...args, '--map', 'device_id=device', '--format', 'json'])).stdout);
      expect(report.phones).toMatchObject({
        column: 'mobile',
        deviceColumn: 'device',
        phones: Number(spread!.phones),
        onSeveralDevices: Number(spread!.devices),
      });
      expect(report.answers[1].answer).toMatch(new RegExp(`^${spread!.devices} of the ${spread!.phones} phones in the table \\(mobile\\)`));
    }
    const noPhone = JSON.parse((await cli(['diagnose', '--key', 'source', '--format', 'json'])).stdout);
    expect(noPhone.phones).toBeNull();
    expect(noPhone.answers[1].answer).toMatch(/^source has no phone column \(a column normalised with e164/);
  });

  it.each([80, 120])('uuids, timestamps and spaced phone numbers stay whole at %i columns, on a terminal and through a pipe with $COLUMNS', async (width) => {
    const args = ['scan', '--key', 'mobile,source', '--top', '3'];
    const json = JSON.parse((await cli([...args, '--format', 'json'])).stdout);
    const values: string[] = json.keys[0].top.flatMap((group: { ids: string[]; firstCreated: string; lastCreated: string; key: { mobile: string } }) => [
      ...group.ids,
      group.firstCreated,
      group.lastCreated,
      group.key.mobile,
    ]);
    expect(values.filter((value) => UUID.test(value)).length).toBeGreaterThan(5);
    const piped = (await cli(args, { COLUMNS: String(width) })).stdout;
    const run = startInTerminal([...args, ...base], { rows: 50, cols: width }, { env: { COLUMNS: undefined, TERM: 'dumb' } });
    const onTerminal = (await run.done).stdout.replace(/\r/g, '');
    for (const text of [piped, onTerminal]) {
      expect(text.split('\n').filter((line) => line.length > width)).toEqual([]);
      for (const value of values) expect(text).toContain(value);
    }
    // the same report, laid out the same: a terminal of that width and $COLUMNS agree (the duration aside)
    const timeless = (text: string) => text.replace(/scanned in [^\n]*/, '');
    expect(timeless(onTerminal)).toBe(timeless(piped));
  });
});

/** The order the presets name their columns in (device_id, phone, niche, user_id). */
function byPresetOrder(a: string, b: string): number {
  const order = [...new Set(PRESET_KEYS.flatMap((key) => key.columns))];
  return order.indexOf(a) - order.indexOf(b);
}
