import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertClient } from '../../src/core/client/upsert-client.js';
import { addConstraint } from '../../src/core/constraint/apply-add.js';
import { planUpsert } from '../../src/core/constraint/upsert.js';
import { renderTsClient } from '../../src/render/sql-upsert/ts-client.js';
import { seed } from '../../src/seed/seed.js';
import { withManyConnections } from '../support/connection-budget.js';
import { keyFor } from '../support/constraint-fixtures.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

const CALLS = 50;
const ROUNDS = 5;
const PG_TYPES = fileURLToPath(new URL('../../node_modules/@types/pg/index.d.ts', import.meta.url));

interface GeneratedModule {
  upsertLead(pool: pg.Pool, lead: Record<string, unknown>): Promise<{ id: string; outcome: string }>;
}

/** `sql upsert --client ts`: the module type-checks strictly against @types/pg and, run with pg, stores one row per 50 concurrent calls. */
describe.runIf(SERVER_URL)('generated TypeScript client (server)', () => {
  let test: TestDatabase;
  let dir: string;
  let source: string;

  beforeAll(async () => {
    test = await TEST_TARGETS.find((t) => t.label === 'postgres')!.open();
    await seed(test.database, { table: 'leads', rows: 300, scenario: 'production', replace: false });
    await test.query('delete from leads l using leads k where k.device_id = l.device_id and k.phone = l.phone and k.id < l.id');
    const key = await keyFor(test.database, 'leads', 'device-phone');
    await addConstraint(test.database, { key });
    const plan = await planUpsert(test.database, { key, onDuplicate: 'fill', insertColumns: ['device_id', 'user_id', 'phone', 'niche', 'name', 'email'] });
    source = renderTsClient(upsertClient({ plan, key, db: test.database.db, generatedBy: 'lead-dedupe sql upsert (test)' }));
    dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-ts-'));
  });
  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await test?.close();
  });

  function typeErrors(text: string): string[] {
    const file = join(dir, 'upsert.ts');
    writeFileSync(file, text);
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: ['node'],
      typeRoots: [fileURLToPath(new URL('../../node_modules/@types', import.meta.url))],
      paths: { pg: [PG_TYPES] },
      skipLibCheck: true,
    });
    return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  }

  it('type-checks under strict settings against @types/pg (and the check does catch an error)', () => {
    expect(typeErrors(source)).toEqual([]);
    expect(typeErrors(`${source}\nexport const broken: number = 'text';\n`)).toEqual(["Type 'string' is not assignable to type 'number'."]);
  });

  it(`${ROUNDS} rounds of ${CALLS} concurrent identical calls through pg: one row, one inserted, the rest existed, no error`, async () => {
    const file = join(dir, 'upsert.mjs');
    writeFileSync(file, ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText);
    const generated = (await import(pathToFileURL(file).href)) as GeneratedModule;
    await withManyConnections(async () => {
      const pool = new pg.Pool({ connectionString: test.url!, max: CALLS });
      // an idle client's error (57P01 when the suite's database is dropped with force) is not the test's
      pool.on('error', () => undefined);
      try {
        for (let round = 1; round <= ROUNDS; round++) {
          const lead = { device_id: 900_000 + round, user_id: 7, phone: '60129990000', niche: 'Property', name: null, email: `r${round}@example.com` };
          const results = await Promise.all(Array.from({ length: CALLS }, () => generated.upsertLead(pool, lead)));
          const [row] = await test.query<{ n: string; ids: string }>(
            `select count(*) as n, string_agg(id::text, ',') as ids from leads where device_id = ${900_000 + round}`,
          );
          expect(Number(row!.n)).toBe(1);
          expect(new Set(results.map((r) => r.id))).toEqual(new Set([row!.ids]));
          expect(results.filter((r) => r.outcome === 'inserted')).toHaveLength(1);
          expect(results.filter((r) => r.outcome === 'existed')).toHaveLength(CALLS - 1);
        }
      } finally {
        await pool.end();
      }
    });
  }, 60_000);
});
