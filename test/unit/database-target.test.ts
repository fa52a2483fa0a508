import { describe, expect, it } from 'vitest';
import { resolveDatabaseTarget } from '../../src/cli/settings.js';
import { describeTarget, parseDatabaseTarget, redact, withoutPassword } from '../../src/db/database-target.js';
import { UsageError } from '../../src/errors.js';

/** libpq semantics of the connection: keyword strings, PG* variables, sslmode, precedence. */
describe('parseDatabaseTarget (libpq semantics)', () => {
  it('reads a keyword string, quoted values included', () => {
    expect(parseDatabaseTarget(`host=db.internal port=6543 dbname='my crm' user=app password='it\\'s'`, {})).toMatchObject({
      kind: 'postgres',
      host: 'db.internal',
      port: 6543,
      database: 'my crm',
      user: 'app',
      password: "it's",
    });
  });

  it('fills what the string leaves out from the PG* variables, as libpq does', () => {
    const env = { PGUSER: 'ann', PGPASSWORD: 'pw', PGAPPNAME: 'nightly', PGOPTIONS: '-c work_mem=64MB', PGPORT: '6000' };
    expect(parseDatabaseTarget('postgres://db.internal/crm', env)).toMatchObject({
      host: 'db.internal',
      port: 6000,
      database: 'crm',
      user: 'ann',
      password: 'pw',
      applicationName: 'nightly',
      options: '-c work_mem=64MB',
    });
    expect(parseDatabaseTarget(undefined, { PGHOST: '127.0.0.5', PGDATABASE: 'crm', PGUSER: 'ann' })).toMatchObject({
      host: '127.0.0.5',
      port: 5432,
      database: 'crm',
    });
    // Without PGAPPNAME the pool names itself lead-dedupe; without a database name libpq uses the user's.
    expect(parseDatabaseTarget('host=h user=ann', {})).toMatchObject({ applicationName: null, database: 'ann', password: null });
  });

  it('maps sslmode the libpq way', () => {
    const ssl = (mode: string) => (parseDatabaseTarget(`host=h dbname=d user=u sslmode=${mode}`, {}) as { ssl: unknown }).ssl;
    expect(ssl('disable')).toBe(false);
    expect(ssl('allow')).toBe(false);
    expect(ssl('require')).toEqual({ rejectUnauthorized: false });
    expect(ssl('prefer')).toEqual({ rejectUnauthorized: false });
    expect(ssl('verify-full')).toEqual({});
    expect((parseDatabaseTarget('host=h dbname=d user=u', { PGSSLMODE: 'require' }) as { ssl: unknown }).ssl).toEqual({ rejectUnauthorized: false });
    expect(() => parseDatabaseTarget('host=h sslmode=require sslrootcert=/nonexistent/root.crt', {})).toThrow(/cannot read sslrootcert/);
  });

  it('refuses what node-postgres cannot honour, and malformed strings, without echoing a password', () => {
    expect(() => parseDatabaseTarget('host=a,b dbname=d', {})).toThrow(/several hosts/);
    expect(() => parseDatabaseTarget('host=a', { PGSERVICE: 'prod' })).toThrow(/service/);
    expect(() => parseDatabaseTarget('host=a dbnmae=x password=hunter2', {})).toThrow(UsageError);
    expect(() => parseDatabaseTarget('host=a dbnmae=x password=hunter2', {})).not.toThrow(/hunter2/);
    expect(() => parseDatabaseTarget('not a target', {})).toThrow(/malformed/);
    expect(redact("host=a password='hunter 2' user=u")).toBe('host=a password=*** user=u');
    expect(describeTarget(parseDatabaseTarget('postgres://u:hunter2@h:1/db', {}))).toBe('h:1/db');
  });
});

describe('resolveDatabaseTarget: flag > DATABASE_URL > PG* > config', () => {
  const pg = { PGHOST: 'from-env', PGDATABASE: 'd' };
  const host = (flag: string | undefined, config: string | undefined, env: NodeJS.ProcessEnv) =>
    (resolveDatabaseTarget(flag, config, env) as { host: string }).host;
  it('takes the first source that is given', () => {
    expect(host('host=from-flag', 'host=from-config', { DATABASE_URL: 'host=from-url', ...pg })).toBe('from-flag');
    expect(host(undefined, 'host=from-config', { DATABASE_URL: 'host=from-url', ...pg })).toBe('from-url');
    expect(host(undefined, 'host=from-config', { DATABASE_URL: '', ...pg })).toBe('from-env');
    expect(host(undefined, 'host=from-config', { PGPASSWORD: 'only a password' })).toBe('from-config');
    expect(() => resolveDatabaseTarget(undefined, undefined, {})).toThrow(/no database given/);
  });
});

describe('withoutPassword: a suggested command keeps connecting, without the secret', () => {
  it('drops the password from URLs (user info and ?password=) and keyword strings', () => {
    expect(withoutPassword('postgres://dba:s3cr%40t@db1:5433/crm')).toBe('postgres://dba@db1:5433/crm');
    expect(withoutPassword('postgresql://dba@db1/crm?password=x&sslmode=require')).toBe('postgresql://dba@db1/crm?sslmode=require');
    expect(withoutPassword('postgres://db1/crm?sslmode=require&password=x')).toBe('postgres://db1/crm?sslmode=require');
    expect(withoutPassword("host=db1 password='a b\\'c' dbname=crm")).toBe('host=db1 dbname=crm');
    expect(withoutPassword('host=db1 dbname=crm password = x')).toBe('host=db1 dbname=crm');
    expect(withoutPassword('pglite:./data')).toBe('pglite:./data');
  });
});

/**
 * Malformed URLs whose password holds raw @, /, ?, # or : (issue 26 item 10): the refusal names the
 * string with everything between the user and the last @ masked, never a fragment of the password.
 * Each password is made of fragments found nowhere else in the string.
 */
describe('a malformed URL never shows any part of its password', () => {
  const cases: [url: string, fragments: string[]][] = [
    ['postgres://postgres:S3cret@PWx9@127.0.0.1:5432/db', ['S3cret', 'PWx9']],
    ['postgres://u:Qa1@Qb2:Qc3@Qd4@127.0.0.1/db', ['Qa1', 'Qb2', 'Qc3', 'Qd4']],
    ['postgres://u:Ra1/Rb2@127.0.0.1/db', ['Ra1', 'Rb2']],
    ['postgres://u:Sa1?Sb2@127.0.0.1/db', ['Sa1', 'Sb2']],
    ['postgres://u:Ta1#Tb2@127.0.0.1/db', ['Ta1', 'Tb2']],
    ['postgresql://u:Ua1@@127.0.0.1/db', ['Ua1']],
    ['postgres://u:Va1@Vb2@127.0.0.1:5432/db?sslmode=bogus', ['Va1', 'Vb2']],
    ['postgres://:Wa1@Wb2@127.0.0.1/db', ['Wa1', 'Wb2']],
  ];
  it.each(cases)('%s', (url, fragments) => {
    let message = '';
    try {
      parseDatabaseTarget(url, {});
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^malformed database URL|^connection /);
    for (const fragment of fragments) expect(message).not.toContain(fragment);
    const shown = redact(url);
    for (const fragment of fragments) expect(shown).not.toContain(fragment);
    expect(shown).toMatch(/^postgres(ql)?:\/\/[^:]*:\*\*\*@[^@]*$/);
  });

  it('masks from the user to the last @, and leaves a URL without a password alone', () => {
    expect(redact('postgres://postgres:S3cret@PW@host/db')).toBe('postgres://postgres:***@host/db');
    expect(redact('postgres://u:a/b@h:5/db?sslmode=require')).toBe('postgres://u:***@h:5/db?sslmode=require');
    expect(redact('postgres://u@h/db')).toBe('postgres://u@h/db');
    expect(redact('postgres://h:5432/db')).toBe('postgres://h:5432/db');
    expect(redact('postgres://u@h/db?password=x1y2&sslmode=require')).toBe('postgres://u@h/db?password=***');
  });

  it('a suggested command loses the whole password, whatever it holds, and keeps a @ of the query', () => {
    expect(withoutPassword('postgres://dba:a@b@db1/crm')).toBe('postgres://dba@db1/crm');
    expect(withoutPassword('postgres://dba:a:b@db1/crm')).toBe('postgres://dba@db1/crm');
    expect(withoutPassword('postgres://dba:s3cret@db1/crm?application_name=me@host')).toBe('postgres://dba@db1/crm?application_name=me@host');
    expect(withoutPassword('postgres://db1:5432/crm?application_name=me@host')).toBe('postgres://db1:5432/crm?application_name=me@host');
  });
});
