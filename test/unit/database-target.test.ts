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
