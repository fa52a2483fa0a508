import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/cli/config-file.js';
import { parseWholeNumber } from '../../src/cli/common-options.js';
import { parseDatabaseTarget, redact } from '../../src/db/database-target.js';
import { UsageError } from '../../src/errors.js';
import { callingCodeFor, parseNormalizeArgument } from '../../src/keys/normalize.js';

describe('parseDatabaseTarget', () => {
  it('reads server URLs and embedded targets', () => {
    expect(parseDatabaseTarget('postgres://app:pw@db.internal:6543/crm')).toMatchObject({ kind: 'postgres', host: 'db.internal', port: 6543, database: 'crm' });
    expect(parseDatabaseTarget('postgresql://localhost/x')).toMatchObject({ kind: 'postgres', port: 5432 });
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
        database: 'postgres://h/db', table: 'crm.leads', idColumn: 'lead_id', createdColumn: 'inserted_at',
        columns: { phone: 'phone_number' }, normalize: { phone: 'e164' }, defaultCountry: 'MY', nullsEqual: true,
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

describe('parseWholeNumber', () => {
  it('takes whole numbers only', () => {
    expect(parseWholeNumber('25', '--top', 10)).toBe(25);
    expect(parseWholeNumber(undefined, '--top', 10)).toBe(10);
    expect(() => parseWholeNumber('-1', '--top', 10)).toThrow('--top takes a whole number; got "-1"');
    expect(() => parseWholeNumber('2.5', '--top', 10)).toThrow(UsageError);
    expect(() => parseWholeNumber('0', '--jobs', 2, 1)).toThrow('--jobs must be at least 1; got 0');
  });
});
