import { open } from 'node:fs/promises';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomically } from '../../src/cli/atomic-file.js';
import { renderScanMetrics, type MetricsReport } from '../../src/render/scan/prometheus.js';
import { parseMetrics } from '../support/prometheus.js';

/**
 * The --metrics-file write as node_exporter's textfile collector meets it: a
 * reader on another thread reads the file in a tight loop while 50 versions
 * are written; every read must be one whole version. The same loop over a
 * file written in place shows the reader does catch a half-written file.
 */
const WRITES = 50;
/** 400 keys: about 400 KB of text, so a write in place takes long enough to be caught half done. */
const KEYS = 400;

function version(index: number): MetricsReport {
  return {
    table: 'public.leads',
    rows: 1_000_000 + index,
    durationMs: 1000 + index,
    keys: Array.from({ length: KEYS }, (_, key) => ({ name: `key-${key}`, groups: index, rowsInGroups: 2 * index, surplus: index, largestGroup: 2 })),
  };
}

/** Reads `path` until told to stop; hands back every distinct content it saw. */
const READER = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const seen = new Set();
let reads = 0;
let stop = false;
parentPort.on('message', () => (stop = true));
parentPort.postMessage('reading');
(function loop() {
  for (let i = 0; i < 200; i++) {
    try { seen.add(readFileSync(workerData.path, 'utf8')); reads++; } catch (error) { seen.add('error: ' + error.code); }
  }
  if (stop) parentPort.postMessage({ seen: [...seen], reads });
  else setImmediate(loop);
})();
`;

async function readWhileWriting(path: string, write: (text: string) => Promise<void>, texts: string[]): Promise<{ seen: string[]; reads: number }> {
  const reader = new Worker(READER, { eval: true, workerData: { path } });
  const messages: unknown[] = [];
  const result = new Promise<{ seen: string[]; reads: number }>((resolve, reject) => {
    reader.on('message', (message) => (message === 'reading' ? messages.push(message) : resolve(message)));
    reader.once('error', reject);
  });
  // the writes begin once the reader reads
  while (messages.length === 0) await sleep(5);
  for (const text of texts) await write(text);
  reader.postMessage('stop');
  const outcome = await result;
  await reader.terminate();
  return outcome;
}

describe('--metrics-file is never seen half-written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-metrics-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`a reader in a loop during ${WRITES} atomic writes sees only whole versions, each parsing`, async () => {
    const path = join(dir, 'lead_dedupe.prom');
    const texts = await Promise.all(Array.from({ length: WRITES + 1 }, (_, index) => renderScanMetrics(version(index), new Date(1_700_000_000_000 + index))));
    writeFileSync(path, texts[0]!);
    const { seen, reads } = await readWhileWriting(path, (text) => writeFileAtomically(path, text, '--metrics-file'), texts.slice(1));
    expect(reads).toBeGreaterThan(WRITES);
    const whole = new Set(texts);
    expect(seen.filter((content) => !whole.has(content)).map((content) => content.slice(0, 80))).toEqual([]);
    for (const content of seen) expect(parseMetrics(content).families).toHaveLength(7);
    // the reader overlapped the writes: it saw many of the versions, not just the first and the last
    expect(seen.length).toBeGreaterThan(10);
    expect(readdirSync(dir)).toEqual(['lead_dedupe.prom']);
  });

  it('the same reader catches a file rewritten in place (the control: the loop can see a half-written file)', async () => {
    const path = join(dir, 'in-place.prom');
    const texts = await Promise.all(Array.from({ length: WRITES + 1 }, (_, index) => renderScanMetrics(version(index), new Date(1_700_000_000_000 + index))));
    writeFileSync(path, texts[0]!);
    const inPlace = async (text: string) => {
      const file = await open(path, 'w');
      const chunk = 64 * 1024;
      for (let at = 0; at < text.length; at += chunk) {
        await file.write(text.slice(at, at + chunk));
        await sleep(1);
      }
      await file.close();
    };
    const { seen } = await readWhileWriting(path, inPlace, texts.slice(1));
    const whole = new Set(texts);
    expect(seen.filter((content) => !whole.has(content)).length).toBeGreaterThan(0);
  });
});
