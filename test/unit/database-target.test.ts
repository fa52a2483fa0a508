import { describe, expect, it } from 'vitest';
import { resolveDatabaseTarget } from '../../src/cli/settings.js';
import { describeTarget, parseDatabaseTarget, redact, withoutPassword, type PostgresTarget } from '../../src/db/database-target.js';
import { UsageError } from '../../src/errors.js';

/** A server target's first endpoint flattened, as the old single-host fields read. */
function server(raw: string | undefined, env: NodeJS.ProcessEnv) {
  const target = parseDatabaseTarget(raw, env) as PostgresTarget;
  return { ...target, host: target.endpoints[0]!.host, port: target.endpoints[0]!.port };
}

/** libpq semantics of the connection: keyword strings, PG* variables, sslmode, precedence. */
describe('parseDatabaseTarget (libpq semantics)', () => {
  it('reads a keyword string, quoted values included', () => {
    expect(server(`host=db.internal port=6543 dbname='my crm' user=app password='it\\'s'`, {})).toMatchObject({
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
    expect(server('postgres://db.internal/crm', env)).toMatchObject({
      host: 'db.internal',
      port: 6000,
      database: 'crm',
      user: 'ann',
      password: 'pw',
      applicationName: 'nightly',
      options: '-c work_mem=64MB',
    });
    expect(server(undefined, { PGHOST: '127.0.0.5', PGDATABASE: 'crm', PGUSER: 'ann' })).toMatchObject({
      host: '127.0.0.5',
      port: 5432,
      database: 'crm',
    });
    // Without PGAPPNAME the pool names itself lead-dedupe; without a database name libpq uses the user's.
    expect(server('host=h user=ann', {})).toMatchObject({ applicationName: null, database: 'ann', password: null });
  });

  it('maps sslmode the libpq way: prefer by default, verification only with a root certificate', () => {
    const tls = (raw: string, env: NodeJS.ProcessEnv = {}) => (parseDatabaseTarget(raw, env) as PostgresTarget).tls;
    expect(tls('host=h dbname=d user=u').mode).toBe('prefer');
    for (const mode of ['disable', 'allow', 'prefer', 'require'] as const) {
      expect(tls(`host=h sslmode=${mode}`)).toMatchObject({ mode, verifyChain: false, verifyName: false, options: { rejectUnauthorized: false } });
    }
    expect(tls('host=h dbname=d user=u', { PGSSLMODE: 'require' }).mode).toBe('require');
    // libpq: require with a root certificate file that does not exist encrypts without verifying.
    expect(tls('host=h sslmode=require sslrootcert=/nonexistent/root.crt').verifyChain).toBe(false);
    expect(() => parseDatabaseTarget('host=h sslmode=verify-full sslrootcert=/nonexistent/root.crt', {})).toThrow(
      /root certificate file "\/nonexistent\/root.crt" does not exist/,
    );
    expect(() => parseDatabaseTarget('host=h sslmode=bogus', {})).toThrow(/invalid sslmode value: "bogus"/);
  });

  it('refuses what node-postgres cannot honour, and malformed strings, without echoing a password', () => {
    expect(() => parseDatabaseTarget('host=a requirepeer=postgres', {})).toThrow(/not supported by lead-dedupe: requirepeer=postgres/);
    expect(() => parseDatabaseTarget('host=a', { PGSERVICE: 'prod', PGSERVICEFILE: '/nonexistent', PGSYSCONFDIR: '/nonexistent' })).toThrow(
      /definition of service "prod" not found/,
    );
    expect(() => parseDatabaseTarget('host=a dbnmae=x password=hunter2', {})).toThrow(UsageError);
    expect(() => parseDatabaseTarget('host=a dbnmae=x password=hunter2', {})).not.toThrow(/hunter2/);
    expect(() => parseDatabaseTarget('mysql://x/y', {})).toThrow(
      /malformed database URL "mysql:\/\/x\/y": missing "=" after "mysql:\/\/x\/y" in connection info string/,
    );
    // psql -d crm: neither a URI nor an "=", so a database name (libpq's expand_dbname)
    expect(parseDatabaseTarget('crm', { PGHOST: 'h', PGUSER: 'u' })).toMatchObject({ database: 'crm', user: 'u' });
    expect(redact("host=a password='hunter 2' user=u")).toBe('host=a password=*** user=u');
    expect(describeTarget(parseDatabaseTarget('postgres://u:hunter2@h:1/db', {}))).toBe('h:1/db');
    expect(describeTarget(parseDatabaseTarget('host=a,/tmp port=1,2 dbname=db', {}))).toBe('a:1,/tmp/.s.PGSQL.2/db');
  });
});

describe('resolveDatabaseTarget: flag > DATABASE_URL > PG* > config', () => {
  const pg = { PGHOST: 'from-env', PGDATABASE: 'd' };
  const host = (flag: string | undefined, config: string | undefined, env: NodeJS.ProcessEnv) =>
    (resolveDatabaseTarget(flag, config, env) as PostgresTarget).endpoints[0]!.host;
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
      const target = parseDatabaseTarget(url, {}) as PostgresTarget;
      // libpq reads ? and # before the @ as password characters: then the whole password is the password.
      expect(target.password).toBe(fragments.join(url.includes('?') ? '?' : '#'));
      message = 'parsed whole';
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^malformed database URL|^connection |^parsed whole$/);
    for (const fragment of fragments) expect(message).not.toContain(fragment);
    const shown = redact(url);
    for (const fragment of fragments) expect(shown).not.toContain(fragment);
    expect(shown).toMatch(/^postgres(ql)?:\/\/[^:]*:\*\*\*@[^@]*$/);
  });

  it('a well-formed URL with a password and an @ in its query parses as libpq parses it', () => {
    const target = parseDatabaseTarget('postgres://dba:s3cret@db1/crm?application_name=me@host', {}) as PostgresTarget;
    expect([target.password, target.endpoints[0]!.host, target.database, target.applicationName]).toEqual(['s3cret', 'db1', 'crm', 'me@host']);
    expect((parseDatabaseTarget('postgres://dba:s3cret@db1/my%40db', {}) as PostgresTarget).database).toBe('my@db');
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
