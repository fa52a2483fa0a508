import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/cli/config-file.js';
import { parseDuration } from '../../src/cli/parse/duration.js';
import { pgDuration } from '../../src/sql/pg-duration.js';

const parseLockTimeout = (text: string) => pgDuration(parseDuration(text, '--lock-timeout', 1));
import { optionalWholeNumber, parseWholeNumber, WHOLE_RANGES } from '../../src/cli/parse/whole-number.js';
import { parseDatabaseTarget, redact } from '../../src/db/database-target.js';
import { UsageError } from '../../src/errors.js';
import { callingCodeFor } from '../../src/keys/normalize.js';
import { parseNormalizeArgument } from '../../src/cli/settings.js';

describe('parseDatabaseTarget', () => {
  it('reads server URLs and embedded targets', () => {
    expect(parseDatabaseTarget('postgres://app:pw@db.internal:6543/crm')).toMatchObject({
      kind: 'postgres',
      endpoints: [{ kind: 'name', host: 'db.internal', port: 6543 }],
      database: 'crm',
    });
    expect(parseDatabaseTarget('postgresql://localhost/x')).toMatchObject({ kind: 'postgres', endpoints: [{ port: 5432 }] });
    expect(parseDatabaseTarget('pglite:memory')).toEqual({ kind: 'pglite', dataDir: null });
    expect(parseDatabaseTarget('pglite:./demo')).toEqual({ kind: 'pglite', dataDir: './demo' });
  });

  it('rejects what it cannot use with a usage error that names the fix', () => {
    expect(() => parseDatabaseTarget(undefined)).toThrow(/--database.*DATABASE_URL.*lead-dedupe demo/);
    expect(() => parseDatabaseTarget('mysql://x')).toThrow(UsageError);
    expect(() => parseDatabaseTarget('pglite:')).toThrow(UsageError);
    expect(() => parseDatabaseTarget('postgres://u:secret@[bad')).toThrow(/malformed database URL "postgres:\/\/u:\*\*\*@\[bad"/);
  });

  it('never echoes a password', () => {
    expect(redact('postgres://app:hunter2@h/db')).toBe('postgres://app:***@h/db');
  });
});

describe('normalize arguments', () => {
  it('parses column=rule', () => {
    expect(parseNormalizeArgument('phone=e164')).toEqual(['phone', 'e164']);
    expect(parseNormalizeArgument('email=LOWER')).toEqual(['email', 'lower']);
  });
  it('rejects unknown rules and missing parts', () => {
    expect(() => parseNormalizeArgument('phone=soundex')).toThrow('unknown normalize rule "soundex"; rules: trim, lower, digits, e164');
    expect(() => parseNormalizeArgument('phone')).toThrow(UsageError);
  });
  it('takes calling codes from libphonenumber-js', () => {
    expect(callingCodeFor('MY')).toBe('60');
    expect(callingCodeFor('sg')).toBe('65');
    expect(() => callingCodeFor('XX')).toThrow(/unknown --default-country "XX"/);
    expect(() => callingCodeFor(null)).toThrow(/needs --default-country/);
  });
});

describe('config file', () => {
  it('accepts every documented setting', () => {
    const config = validateConfig(
      {
        database: 'postgres://h/db',
        table: 'crm.leads',
        idColumn: 'lead_id',
        createdColumn: 'inserted_at',
        columns: { phone: 'phone_number' },
        normalize: { phone: 'e164' },
        defaultCountry: 'MY',
        nullsEqual: true,
        keys: { 'device-email': { columns: ['device_id', 'email'], normalize: { email: 'lower' } } },
        commands: { clean: { batchSize: 500 } },
      },
      'test.json',
    );
    expect(config.keys).toEqual([{ name: 'device-email', columns: ['device_id', 'email'], normalize: { email: 'lower' } }]);
    expect(config.columns).toEqual({ phone: 'phone_number' });
  });
  it('names the bad field', () => {
    expect(() => validateConfig({ tabel: 'x' }, 'c.json')).toThrow(/config c.json: "tabel" is not a setting/);
    expect(() => validateConfig({ nullsEqual: 'yes' }, 'c.json')).toThrow('config c.json: "nullsEqual" must be true or false');
    expect(() => validateConfig({ keys: { k: { columns: [] } } }, 'c.json')).toThrow(/keys"\.k needs "columns"/);
    expect(() => validateConfig({ normalize: { phone: 'nope' } }, 'c.json')).toThrow(/unknown normalize rule/);
  });
});

describe('whole numbers: one parser, a range per flag', () => {
  const range = { min: 1, max: 2_147_483_647 };
  it('takes ASCII digits within the range, from text or a JSON number', () => {
    expect(parseWholeNumber('25', '--top', WHOLE_RANGES.top)).toBe(25);
    expect(parseWholeNumber(' 7 ', '--top', WHOLE_RANGES.top)).toBe(7);
    expect(parseWholeNumber(500, 'config "commands.clean.batchSize"', WHOLE_RANGES.batchSize)).toBe(500);
    expect(parseWholeNumber('2147483647', '--batch-size', range)).toBe(2_147_483_647);
    expect(optionalWholeNumber(undefined, '--top', WHOLE_RANGES.top, 10)).toBe(10);
  });
  it('refuses anything else with the flag and its range', () => {
    const message = (flag: string, got: string) => `${flag} takes a whole number from 1 to 2147483647; got ${got}`;
    expect(() => parseWholeNumber('2147483648', '--batch-size', range)).toThrow(message('--batch-size', '"2147483648"'));
    expect(() => parseWholeNumber('9223372036854775807', '--batch-size', range)).toThrow(message('--batch-size', '"9223372036854775807"'));
    expect(() => parseWholeNumber('10000000000000000000', '--batch-size', range)).toThrow(UsageError);
    expect(() => parseWholeNumber('1'.repeat(400), '--limit', range)).toThrow(message('--limit', `"${'1'.repeat(40)}…"`));
    expect(() => parseWholeNumber('0', '--limit', range)).toThrow(message('--limit', '"0"'));
    expect(() => parseWholeNumber('-1', '--limit', range)).toThrow(message('--limit', '"-1"'));
    expect(() => parseWholeNumber('2.5', '--limit', range)).toThrow(UsageError);
    expect(() => parseWholeNumber('1e3', '--limit', range)).toThrow(UsageError);
    expect(() => parseWholeNumber('٣', '--limit', range)).toThrow(UsageError);
    expect(() => parseWholeNumber(2.5, '--limit', range)).toThrow(message('--limit', '"2.5"'));
    expect(() => parseWholeNumber(1e21, '--limit', range)).toThrow(UsageError);
    expect(() => parseWholeNumber(true, '--limit', range)).toThrow(message('--limit', '"true"'));
    expect(() => parseWholeNumber('101', '--retries', WHOLE_RANGES.retries)).toThrow('--retries takes a whole number from 0 to 100; got "101"');
  });
});

describe('durations: one grammar for clean and constraint', () => {
  it('reads ms, s, m, min, h and bare milliseconds', () => {
    expect(parseDuration('250', '--pause', 0)).toBe(250);
    expect(parseDuration('250ms', '--pause', 0)).toBe(250);
    expect(parseDuration('1.5s', '--pause', 0)).toBe(1500);
    expect(parseDuration('2m', '--pause', 0)).toBe(120_000);
    expect(parseDuration('2min', '--pause', 0)).toBe(120_000);
    expect(parseDuration('1h', '--pause', 0)).toBe(3_600_000);
    expect(parseDuration(2000, 'config "commands.clean.lockTimeout"', 1)).toBe(2000);
    expect(parseDuration('2147483647', '--statement-timeout', 1)).toBe(2_147_483_647);
  });
  it('refuses what PostgreSQL would not take, with the range', () => {
    const message = (got: string) => `--lock-timeout takes a duration from 1ms to 2147483647ms such as 500ms, 5s, 2m or 1h (a bare number is ms); got ${got}`;
    expect(() => parseDuration('soon', '--lock-timeout', 1)).toThrow(message('"soon"'));
    expect(() => parseDuration('0', '--lock-timeout', 1)).toThrow(message('"0"'));
    expect(() => parseDuration('597h', '--lock-timeout', 1)).toThrow(message('"597h"'));
    expect(() => parseDuration('2147483648', '--lock-timeout', 1)).toThrow(message('"2147483648"'));
    expect(() => parseDuration('5 days', '--lock-timeout', 1)).toThrow(UsageError);
  });
  it('constraint add/drop take the same grammar and hand PostgreSQL a unit it knows', () => {
    expect(parseLockTimeout('5s')).toBe('5s');
    expect(parseLockTimeout('2m')).toBe('2min');
    expect(parseLockTimeout('1min')).toBe('1min');
    expect(parseLockTimeout('1.5s')).toBe('1500ms');
    expect(parseLockTimeout('90s')).toBe('90s');
    expect(parseLockTimeout('2000')).toBe('2s');
    expect(() => parseLockTimeout('0')).toThrow(UsageError);
  });
});
