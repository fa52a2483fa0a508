import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConninfo } from '../../../src/db/connection/parse-conninfo.js';
import { resolveSettings } from '../../../src/db/connection/resolve-settings.js';

const dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-service-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const home = join(dir, 'home');
const userFile = file('user.conf', '# mine\n[crm]\nhost=user-host\nport=6001\n\n[crm-extra]\nhost=wrong\n[other]\ndbname=other\n');
const sysDir = join(dir, 'sys');
mkdirSync(sysDir);
file('sys/pg_service.conf', '[crm]\nhost=system-host\n[billing]\n  host=billing-host\ndbname=bill\ndbname=ignored-second\n');

/** Value and where it came from, as `lead-dedupe connection` shows it. */
function resolved(text: string, env: NodeJS.ProcessEnv) {
  const settings = resolveSettings({ given: parseConninfo(text), givenBy: '--database', env, home });
  return (keyword: string) => {
    const setting = settings.get(keyword);
    if (setting === undefined) return undefined;
    const { source } = setting;
    const from =
      source.kind === 'string'
        ? source.name
        : source.kind === 'service'
          ? `service ${source.service}`
          : source.kind === 'environment'
            ? source.variable
            : 'default';
    return `${setting.value} (${from})`;
  };
}

describe("service files with libpq's precedence: string > service file > PG* variables > defaults", () => {
  it('the user file (PGSERVICEFILE) first; the group ends at the next [', () => {
    const get = resolved('service=crm dbname=crm', { PGSERVICEFILE: userFile, PGSYSCONFDIR: sysDir, PGHOST: 'env-host', PGPORT: '7000', PGUSER: 'ann' });
    expect(get('host')).toBe('user-host (service crm)');
    expect(get('port')).toBe('6001 (service crm)');
    expect(get('dbname')).toBe('crm (--database)');
    expect(get('user')).toBe('ann (PGUSER)');
    expect(get('sslmode')).toBe('prefer (default)');
  });

  it('PGSERVICE names the service; a service only in the system file (PGSYSCONFDIR) is read there; the first line of a keyword wins', () => {
    const get = resolved('', { PGSERVICE: 'billing', PGSERVICEFILE: userFile, PGSYSCONFDIR: sysDir });
    expect(get('host')).toBe('billing-host (service billing)');
    expect(get('dbname')).toBe('bill (service billing)');
  });

  it('a string setting is never overridden by the service', () => {
    expect(resolved('service=crm host=mine', { PGSERVICEFILE: userFile, PGSYSCONFDIR: sysDir })('host')).toBe('mine (--database)');
  });

  it('refuses what libpq refuses: an unknown service, an unknown keyword, a nested service, a line without =', () => {
    expect(() => resolved('service=nope', { PGSERVICEFILE: userFile, PGSYSCONFDIR: sysDir })).toThrow('definition of service "nope" not found');
    const bad = (body: string) => file('bad.conf', `[s]\n${body}\n`);
    expect(() => resolved('service=s', { PGSERVICEFILE: bad('hots=x'), PGSYSCONFDIR: sysDir })).toThrow(/syntax error in service file ".*bad.conf", line 2/);
    expect(() => resolved('service=s', { PGSERVICEFILE: bad('service=t'), PGSYSCONFDIR: sysDir })).toThrow(/nested service specifications not supported/);
    expect(() => resolved('service=s', { PGSERVICEFILE: bad('host'), PGSYSCONFDIR: sysDir })).toThrow(/syntax error in service file/);
  });

  it('a missing PGSERVICEFILE falls through to the system file, as in libpq', () => {
    expect(resolved('service=crm', { PGSERVICEFILE: join(dir, 'absent.conf'), PGSYSCONFDIR: sysDir })('host')).toBe('system-host (service crm)');
  });
});
