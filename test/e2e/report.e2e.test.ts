import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/with-database.js';
import { assertBuilt, PRINTED_INVOCATION, runCli } from '../support/cli.js';

/**
 * The HTML report in a real browser: Debian's chromium, driven by
 * playwright-core (which downloads no browser of its own). Required, not
 * skipped: .ci/run installs chromium when it is missing.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const HOSTILE = '<img src="http://127.0.0.1:9/x.png" id="xss">';

describe('lead-dedupe report, rendered in headless Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-report-'));
  const database = `pglite:${join(dir, 'db')}`;
  const file = join(dir, 'report.html');
  let browser: Browser;
  let scanJson: { keys: { name: string; surplus: number; groups: number }[] };
  let diagnoseJson: { surplus: number; cause: Record<string, number>; trend: { last7d: number }; answers: { answer: string }[] };

  beforeAll(async () => {
    assertBuilt();
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    expect((await runCli(['seed', '--database', database, '--rows', '4000'])).code).toBe(0);
    // A group whose key value is markup: the report must show it as text, never load or run it.
    const db = await openDatabase({ kind: 'pglite', dataDir: join(dir, 'db') });
    await sql`insert into public.leads (device_id, user_id, phone, name, created_at)
      select 1, 1, ${HOSTILE}, '<script>document.title="owned"</script>', timestamptz '2026-06-01' + n * interval '10 ms' from generate_series(1, 45) as n`.execute(
      db.db,
    );
    await db.db.destroy();
    const report = await runCli(['report', '--database', database, '--output', file, '--by', 'source', '--no-redact']);
    expect(report.code, report.stderr).toBe(0);
    scanJson = JSON.parse((await runCli(['scan', '--database', database, '--format', 'json', '--top', '5'])).stdout);
    diagnoseJson = JSON.parse((await runCli(['diagnose', '--database', database, '--format', 'json', '--by', 'source'])).stdout);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(async () => browser?.close());

  async function open(width: number) {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(pathToFileURL(file).href);
    return { page, requests, errors };
  }

  it('renders with no console errors and no request but the file itself; charts and key figures are on the page', async () => {
    const { page, requests, errors } = await open(1100);
    expect(errors).toEqual([]);
    expect(requests).toEqual([pathToFileURL(file).href]);
    expect(await page.locator('svg.chart').count()).toBeGreaterThanOrEqual(5);
    expect(await page.locator('svg.chart rect').count()).toBeGreaterThan(20);
    // biome-ignore lint/performance/useDomNodeTextContent: the text a reader sees (innerText), not hidden markup
    const text = await page.locator('body').innerText();
    const count = (n: number) => n.toLocaleString('en-US');
    for (const key of scanJson.keys) expect(text, key.name).toContain(count(key.surplus));
    expect(text).toContain(`${count(diagnoseJson.surplus)} surplus rows`);
    for (const cause of ['race', 'retry', 'resubmission'] as const) expect(text).toContain(count(diagnoseJson.cause[cause]!));
    // the answers name the server clock's time, which moved between the report and the diagnose run
    // and diagnose's suggested commands name the database it was given and start as it was started; the report, made to be mailed, names neither
    const asMailed = (s: string) => s.replaceAll(` -d ${database}`, '').replaceAll(`${PRINTED_INVOCATION} `, 'lead-dedupe ');
    const withoutTimes = (s: string) => asMailed(s.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>'));
    for (const answer of diagnoseJson.answers) expect(withoutTimes(text)).toContain(withoutTimes(answer.answer));
    // The embedded data is the scan and diagnose JSON of the same database (minus timings).
    const embedded = JSON.parse((await page.locator('#report-data').textContent())!);
    // the page embeds the report data; the CLI's JSON adds generatedAt and database at its top
    const withoutTiming = ({ generatedAt: _at, database: _db, ...o }: Record<string, unknown>) => ({ ...o, durationMs: 0 });
    expect(withoutTiming(embedded.scan)).toEqual(withoutTiming(scanJson));
    // the server clock's time (trend.serverNow, and in the answers) moved between the report and the diagnose run
    const serverNow = (o: Record<string, unknown>) => (o.trend as { serverNow: string }).serverNow;
    const withoutClock = (o: Record<string, unknown>) => JSON.parse(asMailed(JSON.stringify(withoutTiming(o)).replaceAll(serverNow(o), '<time>')));
    expect(withoutClock(embedded.diagnose)).toEqual(withoutClock(diagnoseJson as unknown as Record<string, unknown>));
    await page.screenshot({ path: join(ARTIFACTS, 'report-desktop.png'), fullPage: true });
    await page.pdf({ path: join(ARTIFACTS, 'report.pdf'), format: 'A4' });
    expect(statSync(join(ARTIFACTS, 'report.pdf')).size).toBeGreaterThan(10_000);
  });

  it('escapes values from the database', async () => {
    const { page, requests } = await open(1100);
    expect(await page.locator('#xss').count()).toBe(0);
    expect(await page.title()).not.toBe('owned');
    // biome-ignore lint/performance/useDomNodeTextContent: the text a reader sees (innerText), not hidden markup
    expect(await page.locator('body').innerText()).toContain(HOSTILE);
    expect(requests.some((url) => url.startsWith('http'))).toBe(false);
    expect(readFileSync(file, 'utf8')).not.toContain('<img src="http');
  });

  it('fits a phone-width screen without sideways scrolling of the page; chart labels read at 11px or more', async () => {
    const { page, errors } = await open(390);
    expect(errors).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    // every chart label as the reader sees it: its computed font size times the chart's scale on screen, and inside its chart
    const labels = await page.evaluate(() =>
      [...document.querySelectorAll<SVGTextElement>('svg.chart text')].map((text) => {
        const chart = text.ownerSVGElement!.getBoundingClientRect();
        const box = text.getBoundingClientRect();
        return {
          text: text.textContent,
          px: Number.parseFloat(getComputedStyle(text).fontSize) * text.getScreenCTM()!.a,
          inside: box.left >= chart.left - 0.5 && box.right <= chart.right + 0.5,
        };
      }),
    );
    expect(labels.length).toBeGreaterThan(10);
    expect(labels.filter((label) => label.px < 11)).toEqual([]);
    expect(labels.filter((label) => !label.inside)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'report-phone.png'), fullPage: true });
  });
});
