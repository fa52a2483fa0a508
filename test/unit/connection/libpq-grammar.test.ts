import { describe, expect, it } from 'vitest';
import { userInfo } from 'node:os';
import { endpoints } from '../../../src/db/connection/endpoints.js';
import { parseConninfo } from '../../../src/db/connection/parse-conninfo.js';
import { parseDatabaseTarget, type PostgresTarget } from '../../../src/db/database-target.js';

/**
 * libpq's own URI test table (PostgreSQL's src/interfaces/libpq/t/001_uri.pl),
 * restated: each input with what libpq's test program prints for it — every
 * keyword the string set, then (local) when every host is a Unix socket
 * directory or (inet) when a host name or hostaddr is set — or libpq's error.
 * In this table no keyword is set to its default value, so "what the string set"
 * is exactly what the program prints.
 */
const LIBPQ_URI_TABLE: [uri: string, expected: string | { error: string }][] = [
  ['postgresql://uri-user:secret@host:12345/db', "user='uri-user' password='secret' dbname='db' host='host' port='12345' (inet)"],
  ['postgresql://uri-user@host:12345/db', "user='uri-user' dbname='db' host='host' port='12345' (inet)"],
  ['postgresql://uri-user@host/db', "user='uri-user' dbname='db' host='host' (inet)"],
  ['postgresql://host:12345/db', "dbname='db' host='host' port='12345' (inet)"],
  ['postgresql://host/db', "dbname='db' host='host' (inet)"],
  ['postgresql://uri-user@host:12345/', "user='uri-user' host='host' port='12345' (inet)"],
  ['postgresql://uri-user@host/', "user='uri-user' host='host' (inet)"],
  ['postgresql://uri-user@', "user='uri-user' (local)"],
  ['postgresql://host:12345/', "host='host' port='12345' (inet)"],
  ['postgresql://host:12345', "host='host' port='12345' (inet)"],
  ['postgresql://host/db', "dbname='db' host='host' (inet)"],
  ['postgresql://host/', "host='host' (inet)"],
  ['postgresql://host', "host='host' (inet)"],
  ['postgresql://', '(local)'],
  ['postgresql://?hostaddr=127.0.0.1', "hostaddr='127.0.0.1' (inet)"],
  ['postgresql://example.com?hostaddr=127.1.2.4', "host='example.com' hostaddr='127.1.2.4' (inet)"],
  ['postgresql://%68ost/', "host='host' (inet)"],
  ['postgresql://host/db?user=uri-user', "user='uri-user' dbname='db' host='host' (inet)"],
  ['postgresql://host/db?user=uri-user&port=12345', "user='uri-user' dbname='db' host='host' port='12345' (inet)"],
  ['postgresql://host/db?u%73er=someotheruser&port=12345', "user='someotheruser' dbname='db' host='host' port='12345' (inet)"],
  ['postgresql://host/db?u%7aer=someotheruser&port=12345', { error: 'invalid URI query parameter: "uzer"' }],
  ['postgresql://host:12345?user=uri-user', "user='uri-user' host='host' port='12345' (inet)"],
  ['postgresql://host?user=uri-user', "user='uri-user' host='host' (inet)"],
  ['postgresql://host?', "host='host' (inet)"],
  ['postgresql://[::1]:12345/db', "dbname='db' host='::1' port='12345' (inet)"],
  ['postgresql://[::1]/db', "dbname='db' host='::1' (inet)"],
  ['postgresql://[2001:db8::1234]/', "host='2001:db8::1234' (inet)"],
  ['postgresql://[200z:db8::1234]/', "host='200z:db8::1234' (inet)"],
  ['postgresql://[::1]', "host='::1' (inet)"],
  ['postgres://', '(local)'],
  ['postgres:///', '(local)'],
  ['postgres:///db', "dbname='db' (local)"],
  ['postgres://uri-user@/db', "user='uri-user' dbname='db' (local)"],
  ['postgres://?host=/path/to/socket/dir', "host='/path/to/socket/dir' (local)"],
  ['postgresql://host?uzer=', { error: 'invalid URI query parameter: "uzer"' }],
  ['postgre://', { error: 'missing "=" after "postgre://" in connection info string' }],
  ['postgres://[::1', { error: 'end of string reached when looking for matching "]" in IPv6 host address in URI: "postgres://[::1"' }],
  ['postgres://[]', { error: 'IPv6 host address may not be empty in URI: "postgres://[]"' }],
  ['postgres://[::1]z', { error: 'unexpected character "z" at position 17 in URI (expected ":" or "/"): "postgres://[::1]z"' }],
  ['postgresql://host?zzz', { error: 'missing key/value separator "=" in URI query parameter: "zzz"' }],
  ['postgresql://host?value1&value2', { error: 'missing key/value separator "=" in URI query parameter: "value1"' }],
  ['postgresql://host?key=key=value', { error: 'extra key/value separator "=" in URI query parameter: "key"' }],
  ['postgres://host?dbname=%XXfoo', { error: 'invalid percent-encoded token: "%XXfoo"' }],
  ['postgresql://a%00b', { error: 'forbidden value %00 in percent-encoded value: "a%00b"' }],
  ['postgresql://%zz', { error: 'invalid percent-encoded token: "%zz"' }],
  ['postgresql://%1', { error: 'invalid percent-encoded token: "%1"' }],
  ['postgresql://%', { error: 'invalid percent-encoded token: "%"' }],
  ['postgres://@host', "host='host' (inet)"],
  ['postgres://host:/', "host='host' (inet)"],
  ['postgres://:12345/', "port='12345' (local)"],
  ['postgres://otheruser@?host=/no/such/directory', "user='otheruser' host='/no/such/directory' (local)"],
  ['postgres://otheruser@/?host=/no/such/directory', "user='otheruser' host='/no/such/directory' (local)"],
  ['postgres://otheruser@:12345?host=/no/such/socket/path', "user='otheruser' host='/no/such/socket/path' port='12345' (local)"],
  ['postgres://otheruser@:12345/db?host=/path/to/socket', "user='otheruser' dbname='db' host='/path/to/socket' port='12345' (local)"],
  ['postgres://:12345/db?host=/path/to/socket', "dbname='db' host='/path/to/socket' port='12345' (local)"],
  ['postgres://:12345?host=/path/to/socket', "host='/path/to/socket' port='12345' (local)"],
  ['postgres://%2Fvar%2Flib%2Fpostgresql/dbname', "dbname='dbname' host='/var/lib/postgresql' (local)"],
];

/** Parses libpq_uri_regress's line: `keyword='value' … (local|inet)`. */
function printed(line: string): { settings: Record<string, string>; where: string } {
  const settings = Object.fromEntries([...line.matchAll(/(\w+)='([^']*)'/g)].map((match) => [match[1]!, match[2]!]));
  return { settings, where: /\((local|inet)\)$/.exec(line)![1]! };
}

function parsed(text: string): { settings: Record<string, string> } | { error: string } {
  try {
    return { settings: Object.fromEntries(parseConninfo(text)) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

describe("libpq's URI table (001_uri.pl): every case parses as libpq's PQconninfoParse", () => {
  it.each(LIBPQ_URI_TABLE)('%s', (uri, expected) => {
    if (typeof expected !== 'string') {
      expect(parsed(uri)).toEqual(expected);
      return;
    }
    const { settings, where } = printed(expected);
    expect(parsed(uri)).toEqual({ settings });
    const all = endpoints(settings.host ?? '', settings.hostaddr ?? '', settings.port ?? '');
    expect(all.every((endpoint) => endpoint.kind === 'socket') ? 'local' : 'inet').toBe(where);
  });

  // The table's last three cases set PGSSLROOTCERT=system (PostgreSQL 16's system CA store), which this tool does not read:
  // the string still parses as libpq's, and the connection is refused naming the setting (exit 2), never silently different.
  it.each(['disable', 'prefer', 'verify-full'])('postgresql://host?sslmode=%s with PGSSLROOTCERT=system', (mode) => {
    expect(parsed(`postgresql://host?sslmode=${mode}`)).toEqual({ settings: { host: 'host', sslmode: mode } });
    expect(() => parseDatabaseTarget(`postgresql://host?sslmode=${mode}`, { PGSSLROOTCERT: 'system' })).toThrow(
      /not supported by lead-dedupe: sslrootcert=system/,
    );
  });
});

/** More URIs and keyword strings, each with what libpq 15's PQconninfoParse returned for it (checked against the library). */
const MORE_CASES: [text: string, expected: { settings: Record<string, string> } | { error: string }][] = [
  ['postgresql://h?user=a&&port=1', { error: 'missing key/value separator "=" in URI query parameter: ""' }],
  ['postgresql://a,b:1,[::1]:3/d', { settings: { dbname: 'd', host: 'a,b,::1', port: ',1,3' } }],
  ['postgresql://,/', { settings: { host: ',', port: ',' } }],
  ['postgresql://h:5,/x', { settings: { dbname: 'x', host: 'h,', port: '5,' } }],
  ['postgres://u:p:q@h/d', { settings: { user: 'u', password: 'p:q', dbname: 'd', host: 'h' } }],
  ['postgres://u:@h', { settings: { user: 'u', host: 'h' } }],
  ['postgres://h?ssl=true', { settings: { host: 'h', sslmode: 'require' } }],
  ['postgres://h?requiressl=1', { settings: { host: 'h', sslmode: 'require' } }],
  ['postgres://host?user=a@b/c', { settings: { user: 'host?user=a', dbname: 'c', host: 'b' } }],
  ['postgres://u%40x@h/d%20b', { settings: { user: 'u@x', dbname: 'd b', host: 'h' } }],
  ["host=a\tport=5\n dbname = 'x y'", { settings: { dbname: 'x y', host: 'a', port: '5' } }],
  ["dbname='x", { error: 'unterminated quoted string in connection info string' }],
  ["dbname='it\\'s' user=a\\ b", { settings: { user: 'a b', dbname: "it's" } }],
  ['host=a x=1', { error: 'invalid connection option "x"' }],
  ['user=', { settings: { user: '' } }],
  ["user=''", { settings: { user: '' } }],
  ['a=', { error: 'invalid connection option "a"' }],
  ['   ', { settings: {} }],
  ['host = a  port=3', { settings: { host: 'a', port: '3' } }],
  ['x', { error: 'missing "=" after "x" in connection info string' }],
  ['host=a=b', { settings: { host: 'a=b' } }],
  ["dbname='a'user=b", { settings: { user: 'b', dbname: 'a' } }],
  ['requiressl=0', { settings: { sslmode: 'prefer' } }],
  ['host=h password=pw', { settings: { password: 'pw', host: 'h' } }],
  ['user=%41', { settings: { user: '%41' } }],
];

describe('URIs and keyword strings beyond the table: whitespace incl. tabs, quoting, escapes, empty parts, host lists', () => {
  it.each(MORE_CASES)('%j', (text, expected) => {
    expect(parsed(text)).toEqual(expected);
  });
});

describe("libpq's defaults once the string is parsed", () => {
  const target = (raw: string, env: NodeJS.ProcessEnv = {}) => parseDatabaseTarget(raw, { HOME: '/nonexistent', ...env }) as PostgresTarget;
  it('no host: the Unix socket directory; no port: 5432; an empty user: the OS user (never ""); no dbname: the user', () => {
    const osUser = userInfo().username;
    for (const raw of ["user='' dbname=''", 'postgres://@/', 'postgresql://:/?user=']) {
      const {
        endpoints: [endpoint],
        user,
        database,
      } = target(raw, { PGUSER: '' });
      expect(endpoint).toEqual({ kind: 'socket', host: '/var/run/postgresql', hostaddr: null, port: 5432 });
      expect(user).toBe(osUser);
      expect(database).toBe(osUser);
    }
  });

  it('pairs host, hostaddr and port lists as libpq does, and refuses lists that do not pair', () => {
    expect(target('host=a,/tmp/s,,b port=1,2,3,4').endpoints.map(({ kind, host, port }) => `${kind} ${host} ${port}`)).toEqual([
      'name a 1',
      'socket /tmp/s 2',
      'socket /var/run/postgresql 3',
      'name b 4',
    ]);
    expect(target('postgresql://a:1,b/db?port=7').endpoints.map((endpoint) => endpoint.port)).toEqual([7, 7]);
    expect(target('host=db.example hostaddr=127.0.0.1').endpoints).toEqual([{ kind: 'address', host: 'db.example', hostaddr: '127.0.0.1', port: 5432 }]);
    expect(() => target('host=a,b port=1,2,3')).toThrow(/could not match 3 port numbers to 2 hosts/);
    expect(() => target('host=a,b hostaddr=127.0.0.1')).toThrow(/could not match 2 host names to 1 hostaddr values/);
    expect(() => target('port=x')).toThrow(/invalid integer value "x" for connection option "port"/);
    expect(() => target('port=70000')).toThrow(/invalid port number: "70000"/);
  });

  it('connect_timeout below 2 s counts as 2, 0 as none; target_session_attrs is checked', () => {
    expect(target('connect_timeout=1').connectTimeoutSeconds).toBe(2);
    expect(target('connect_timeout=0').connectTimeoutSeconds).toBeNull();
    expect(target('host=a', { PGTARGETSESSIONATTRS: 'standby' }).targetSessionAttrs).toBe('standby');
    expect(() => target('target_session_attrs=master')).toThrow(/invalid target_session_attrs value: "master"/);
  });

  it('application_name, else fallback_application_name; PGOPTIONS and PGDATESTYLE reach the start-up options', () => {
    expect(target('fallback_application_name=fb').applicationName).toBe('fb');
    expect(target('fallback_application_name=fb application_name=app').applicationName).toBe('app');
    expect(target('host=a', { PGOPTIONS: '-c work_mem=64MB', PGDATESTYLE: 'ISO, DMY' }).options).toBe('-c work_mem=64MB -c datestyle=ISO,\\ DMY');
  });

  it('refuses, by name, settings node-postgres cannot honour', () => {
    for (const raw of ['keepalives_count=3', 'tcp_user_timeout=10', 'gssencmode=require', 'channel_binding=require', 'replication=database', 'sslcrldir=/x']) {
      expect(() => target(raw)).toThrow(new RegExp(`not supported by lead-dedupe: ${raw.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    }
  });
});
