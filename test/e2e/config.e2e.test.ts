import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli } from '../support/cli.js';

/**
 * The config file as a DBA writes it: every setting is checked (a typo is an error naming its
 * path, with a suggestion), `commands.<command>` supplies that command's flags, and the file's
 * normalize rules apply to the keys that have the column. Through the built binary, on PGlite.
 */
describe('config file (built binary)', () => {
  let dir: string;
  let database: string;
  const withConfig = (config: unknown, ...args: string[]) => {
    const file = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(config));
    return runCli([...args, '--database', database, '--config', file]);
  };

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-config-'));
    database = `pglite:${join(dir, 'db')}`;
    const seeded = await runCli(['seed', '--database', database, '--rows', '2000']);
    expect(seeded.code, seeded.stderr).toBe(0);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    [{ commands: { scna: {} } }, 'lead-dedupe: config "commands.scna" is not a command (did you mean "scan"?)\n'],
    [{ commands: { scan: { tpo: 3 } } }, /^lead-dedupe: config "commands\.scan\.tpo" is not a setting of scan \(did you mean "top"\?\); settings: /],
    [{ commands: { restore: { execte: true } } }, /^lead-dedupe: config "commands\.restore\.execte" is not a setting of restore \(did you mean "execute"\?\)/],
    [{ commands: { constraint: { ad: {} } } }, 'lead-dedupe: config "commands.constraint.ad" is not a command (did you mean "add"?)\n'],
    [{ keys: { de: { columns: ['device_id', 'email'], nullsEqaul: true } } }, /"keys"\.de\.nullsEqaul is not a key setting \(did you mean "nullsEqual"\?\)/],
    [
      { keys: { de: { columns: ['device_id', 'email'], normalise: { email: 'lower' } } } },
      /"keys"\.de\.normalise is not a key setting \(did you mean "normalize"\?\)/,
    ],
    [{ tabel: 'leads' }, /"tabel" is not a setting \(did you mean "table"\?\)/],
    [{ commands: { scan: { top: 'many' } } }, 'lead-dedupe: config "commands.scan.top" takes a whole number from 0 to 2147483647; got "many"\n'],
    [{ commands: { scan: { format: 'xml' } } }, 'lead-dedupe: config "commands.scan.format" takes table|json|csv|prometheus; got "xml"\n'],
    [{ commands: { scan: { failOnDuplicates: 'yes' } } }, 'lead-dedupe: config "commands.scan.failOnDuplicates" must be true or false\n'],
  ])('%j: one line naming the setting, exit 2, whichever command runs', async (config, message) => {
    // scan runs, so an error in another command's section proves the whole file is checked
    const result = await withConfig(config, 'scan', '--key', 'device-phone');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    if (typeof message === 'string') expect(result.stderr).toBe(message);
    else expect(result.stderr).toMatch(message);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it("commands.scan supplies scan's flags: failOnDuplicates, top and format take effect; a flag on the command line wins", async () => {
    const config = { commands: { scan: { failOnDuplicates: true, top: 0, format: 'csv' } } };
    const fromConfig = await withConfig(config, 'scan', '--key', 'device-phone');
    expect(fromConfig.code, fromConfig.stderr).toBe(3);
    expect(fromConfig.stdout.split('\n')[0]).toMatch(/^table,rows,key,columns,/);
    const flagWins = await withConfig(config, 'scan', '--key', 'device-phone', '--format', 'json');
    expect(flagWins.code).toBe(3);
    expect(JSON.parse(flagWins.stdout).keys[0].top).toEqual([]);
  });

  it('a config normalize rule applies to the keys that have the column and leaves the others alone', async () => {
    const config = { normalize: { phone: 'e164' }, defaultCountry: 'MY', keys: { 'device-email': { columns: ['device_id', 'email'] } } };
    const email = await withConfig(config, 'scan', '--key', 'device-email', '--format', 'json');
    expect(email.code, email.stderr).toBe(0);
    expect(JSON.parse(email.stdout).keys[0].normalize).toEqual({});
    const phone = await withConfig(config, 'scan', '--key', 'device-phone', '--format', 'json');
    expect(phone.code, phone.stderr).toBe(0);
    expect(JSON.parse(phone.stdout).keys[0].normalize).toEqual({ phone: 'e164' });
    // typed on the command line, a rule no key uses is still a typo
    const typo = await withConfig({}, 'scan', '--key', 'device_id,email', '--normalize', 'phone=e164');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe('lead-dedupe: --normalize names "phone", which no scanned key uses\n');
  });

  it('commands.constraint.add is the section of a subcommand', async () => {
    const result = await withConfig({ commands: { constraint: { add: { lockTimeout: 'soon' } } } }, 'constraint', 'add', '--key', 'device-phone');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^lead-dedupe: config "commands\.constraint\.add\.lockTimeout" takes a duration/);
  });
});
