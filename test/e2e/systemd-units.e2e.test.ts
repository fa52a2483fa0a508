import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { assertBuilt, BIN, runCli } from '../support/cli.js';
import { haveTool } from '../support/host-tool.js';

const GUIDE = fileURLToPath(new URL('../../docs/monitoring.md', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-systemd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The guide's ```ini blocks that start with `# /etc/systemd/system/<unit>`: the units as a reader copies them. */
function unitsOfGuide(): Map<string, string> {
  const units = new Map<string, string>();
  for (const [, body = ''] of readFileSync(GUIDE, 'utf8').matchAll(/```ini\n([\s\S]*?)```/g)) {
    const path = /^# (\/etc\/systemd\/system\/\S+)\n/.exec(body)?.[1];
    if (path !== undefined) units.set(basename(path), body);
  }
  return units;
}

function run(file: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(file, args, { env }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr })),
  );
}

describe('the systemd recipe of docs/monitoring.md', () => {
  const units = unitsOfGuide();

  it('has a service and its timer', () => {
    expect([...units.keys()].sort()).toEqual(['lead-dedupe-crm.service', 'lead-dedupe-crm.timer']);
  });

  const verifies = haveTool('systemd-analyze', 'systemd');
  it.runIf(verifies)(`passes systemd-analyze verify (offline, as printed)${verifies ? '' : ' (skipped: systemd-analyze is not installed)'}`, async () => {
    const files = [...units].map(([name, body]) => {
      const path = join(dir, name);
      writeFileSync(path, body);
      return path;
    });
    const result = await run('systemd-analyze', ['verify', '--man=no', ...files]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('runs its ExecStart= command line as systemd would (/usr/bin/env on a PATH), with an exit code the unit counts as success', async () => {
    assertBuilt();
    const execStart = /^ExecStart=(.*)$/m.exec(units.get('lead-dedupe-crm.service') ?? '')?.[1] ?? '';
    const [env, tool, ...args] = execStart.split(' ');
    expect([env, tool]).toEqual(['/usr/bin/env', 'lead-dedupe']);
    // the recipe's files, moved into this test's folder: a config naming an embedded database, the textfile folder
    const database = `pglite:${join(dir, 'db')}`;
    expect((await runCli(['seed', '--database', database, '--rows', '2000'])).code).toBe(0);
    const config = join(dir, 'crm.json');
    writeFileSync(config, JSON.stringify({ database }));
    const textfiles = join(dir, 'node-exporter');
    mkdirSync(textfiles);
    const local = args.map((arg) =>
      arg.startsWith('/etc/lead-dedupe/') ? config : arg.startsWith('/var/lib/prometheus/node-exporter/') ? join(textfiles, basename(arg)) : arg,
    );
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync(BIN, join(bin, 'lead-dedupe'));
    const result = await run('/usr/bin/env', ['lead-dedupe', ...local], { PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin` });
    expect(result.stderr).toBe('');
    // SuccessExitStatus=3: duplicates found is a success for the unit; the alert is Prometheus' job
    const success = [
      0,
      ...(/^SuccessExitStatus=(.*)$/m
        .exec(units.get('lead-dedupe-crm.service') ?? '')?.[1]
        ?.split(' ')
        .map(Number) ?? []),
    ];
    expect(success).toContain(result.code);
    // the oracle: NULLs distinct, as a plain UNIQUE (a row with a NULL key column is in no group)
    const db = new PGlite(join(dir, 'db'));
    const { rows } = await db.query<{ surplus: number }>(
      'select coalesce(sum(n - 1), 0)::int as surplus from (select count(*) as n from leads where device_id is not null and phone is not null group by device_id, phone having count(*) > 1) g',
    );
    await db.close();
    const metrics = readFileSync(join(textfiles, 'lead_dedupe_crm.prom'), 'utf8');
    expect(metrics).toContain(`lead_dedupe_surplus_rows{table="public.leads",key="device-phone"} ${rows[0]?.surplus}\n`);
    expect(result.code).toBe((rows[0]?.surplus ?? 0) > 0 ? 3 : 0);
  });
});
