import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveCleanOptions } from '../../src/cli/clean-flags.js';
import { applyClean } from '../../src/clean/apply-clean.js';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { resolveKeys } from '../../src/keys/resolve-key.js';
import { renderClean } from '../../src/render/clean/index.js';
import { seed } from '../../src/seed/seed.js';
import { sqlOracle } from '../support/oracle.js';
import { countRows, PLAIN_KEY_SETTINGS } from '../support/table-facts.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

const context = { width: 200, generatedAt: '2026-01-01T00:00:00.000Z', database: 'test' };

/**
 * The summary of a run that did not finish says where it stopped and on
 * what, what it did before, and what is left; never "Nothing to clean …
 * nothing to undo" or "batch 1 of 0". A lock timeout is raised by a trigger
 * on the second batch's delete (the same on PGlite, which has no second
 * session to hold a lock, as on the server; clean-faults.test.ts holds a
 * real one).
 */
describe.each(TEST_TARGETS.filter((t) => t.available))('a clean run that stops, on $label', (target) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await target.open();
  });
  afterAll(async () => test?.close());
  beforeEach(async () => {
    await test.exec('drop schema if exists lead_dedupe cascade;\n');
    await seed(test.database, { table: 'leads', rows: 1500, scenario: 'production', replace: true });
  });

  async function options() {
    const table = await loadLeadTable(test.database.db, { table: 'leads', idColumn: 'id', createdColumn: 'created_at' });
    const [key] = resolveKeys(table, ['device-phone'], PLAIN_KEY_SETTINGS).keys;
    return { ...resolveCleanOptions(key!, { mergeRule: [] }), mode: 'delete' as const, batchSize: 20, retries: 0, lockTimeoutMs: 150 };
  }

  it('a batch that times out: which batch and error, what is committed (and how to undo it), what is left; in text and JSON', async () => {
    const before = await sqlOracle(test, 'leads', ['device_id', 'phone'], true);
    await test.exec(`drop sequence if exists lead_deletes;
create sequence lead_deletes;
create or replace function second_delete_times_out() returns trigger language plpgsql as $$ begin if nextval('public.lead_deletes') > 1 then raise exception 'canceling statement due to lock timeout' using errcode = '55P03'; end if; return null; end $$;
create trigger second_delete_times_out before delete on leads for each statement execute function second_delete_times_out();
`);
    const result = await applyClean(test.database, await options());
    await test.exec('drop trigger second_delete_times_out on leads;\n');

    const left = await sqlOracle(test, 'leads', ['device_id', 'phone'], true);
    const archived = await countRows(test, `select * from lead_dedupe.lead_dedupe_removed where run_id = ${result.runId}`);
    expect(result.status).toBe('failed');
    expect(archived).toBe(before.surplus - left.surplus);
    expect(archived).toBeGreaterThan(0);
    expect(result.stop).toEqual({
      batch: 2,
      error: 'could not lock its rows within --lock-timeout 150 ms',
      staged: true,
      batchesLeft: result.batches - 1,
      groupsLeft: left.groups,
    });
    expect(result.batches).toBe(Math.ceil(before.groups / 20));

    const text = renderClean({ kind: 'result', result }, 'table', context);
    expect(text).not.toMatch(/Nothing to clean|nothing to undo| of 0\b/);
    expect(text).toContain(`Failed in batch 2 of ${result.batches}: could not lock its rows within --lock-timeout 150 ms; the batch was rolled back.`);
    expect(text).toContain(`Done before it: 1 batches committed: ${archived} rows removed, archived under run ${result.runId}.`);
    expect(text).toContain(`Left: ${left.groups} groups in ${result.batches - 1} batches, not cleaned; rerun the same clean to continue.`);
    expect(text).toContain(`lead-dedupe restore ${result.runId} --execute`);
    const json = JSON.parse(renderClean({ kind: 'result', result }, 'json', context));
    expect(json).toMatchObject({ runId: result.runId, status: 'failed', batchesDone: 1, rowsRemoved: archived, stop: result.stop });
  });

  it('a failure before any batch commits says the run changed nothing, and what is left', async () => {
    const before = await sqlOracle(test, 'leads', ['device_id', 'phone'], true);
    await test.exec(`create or replace function first_delete_times_out() returns trigger language plpgsql as $$ begin raise exception 'canceling statement due to lock timeout' using errcode = '55P03'; end $$;
create trigger first_delete_times_out before delete on leads for each statement execute function first_delete_times_out();
`);
    const result = await applyClean(test.database, await options());
    await test.exec('drop trigger first_delete_times_out on leads;\n');
    expect(await sqlOracle(test, 'leads', ['device_id', 'phone'], true)).toEqual(before);
    const text = renderClean({ kind: 'result', result }, 'table', context);
    expect(text).not.toMatch(/Nothing to clean| of 0\b/);
    expect(text).toContain(`Failed in batch 1 of ${result.batches}: could not lock its rows within --lock-timeout 150 ms; the batch was rolled back.`);
    expect(text).toContain('Done before it: nothing was committed.');
    expect(text).toContain(`Left: ${before.groups} groups in ${result.batches} batches, not cleaned; rerun the same clean to continue.`);
    expect(text).toContain(`Run ${result.runId} changed nothing; nothing to undo.`);
  });
});
