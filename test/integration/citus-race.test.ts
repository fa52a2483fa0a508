import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addConstraint } from '../../src/core/constraint/apply-add.js';
import { planUpsert } from '../../src/core/constraint/upsert.js';
import { CITUS_URL, openCitusDatabase, seedDistributedByDevice } from '../support/citus.js';
import { dedupeDevicePhone, keyFor } from '../support/constraint-fixtures.js';
import type { TestDatabase } from '../support/test-database.js';

/**
 * The webhook's race against a table distributed by device_id: 50
 * connections to the coordinator call at the same moment, as 50 concurrent
 * webhook calls would. Without a constraint check-then-insert duplicates the
 * lead; with device-phone's constraint on every shard, the upsert from
 * `sql upsert` leaves exactly one row.
 */
const CALLERS = 50;
const MAX_ROUNDS = 20;
const BARRIER = 4_242_014;

type Outcome = 'inserted' | 'skipped';

describe.skipIf(!CITUS_URL)('the webhook race on a distributed table (cluster)', () => {
  let test: TestDatabase;
  const callers: pg.Client[] = [];
  let holder: pg.Client;

  beforeAll(async () => {
    test = await openCitusDatabase();
    await seedDistributedByDevice(test, 'leads', 2000);
    holder = await connect();
    for (let i = 0; i < CALLERS; i++) callers.push(await connect());
  });
  afterAll(async () => {
    await Promise.all([holder, ...callers].map((client) => client?.end().catch(() => undefined)));
    await test?.close();
  });

  async function connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: test.url!, application_name: 'lead-dedupe-citus-race-test' });
    await client.connect();
    return client;
  }

  /** Starts every caller at once: each waits on an advisory lock (on the coordinator) the holder keeps until all of them queue. */
  async function together(call: (client: pg.Client) => Promise<Outcome>): Promise<Outcome[]> {
    await holder.query('select pg_advisory_lock($1)', [BARRIER]);
    const running = callers.map(async (client) => {
      await client.query('select pg_advisory_lock_shared($1)', [BARRIER]);
      await client.query('select pg_advisory_unlock_shared($1)', [BARRIER]);
      return call(client);
    });
    for (;;) {
      const { rows } = await holder.query<{ n: string }>(`select count(*) as n from pg_locks where locktype = 'advisory' and objid = $1 and not granted`, [
        BARRIER,
      ]);
      if (Number(rows[0]!.n) === CALLERS) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await holder.query('select pg_advisory_unlock($1)', [BARRIER]);
    return Promise.all(running);
  }

  async function rowsFor(deviceId: number): Promise<number> {
    const [row] = await test.query<{ n: string }>(`select count(*) as n from leads where device_id = ${deviceId}`);
    return Number(row!.n);
  }

  it('before: 50 concurrent check-then-inserts of one lead create duplicates on the cluster too', async () => {
    let rounds = 0;
    let worst = 0;
    for (let round = 1; round <= MAX_ROUNDS && worst <= 1; round++) {
      rounds = round;
      const deviceId = 800_000 + round;
      const outcomes = await together(async (client) => {
        const values = [deviceId, 77, '60129990000'];
        const existing = await client.query('select id from leads where device_id = $1 and user_id = $2 and phone = $3', values);
        if (existing.rowCount! > 0) return 'skipped';
        await client.query(`insert into leads (device_id, user_id, phone, name) values ($1, $2, $3, 'webhook')`, values);
        return 'inserted';
      });
      worst = await rowsFor(deviceId);
      expect(outcomes.filter((o) => o === 'inserted')).toHaveLength(worst);
    }
    console.log(`Citus race BEFORE the constraint: round ${rounds} of at most ${MAX_ROUNDS} produced ${worst} rows for one lead`);
    expect(worst).toBeGreaterThan(1);
  });

  it('after dedupe and constraint add: 50 concurrent upserts from sql upsert leave exactly one row, 49 skipped, no errors', async () => {
    await dedupeDevicePhone(test, 'leads');
    const key = await keyFor(test.database, 'leads', 'device-phone');
    const added = await addConstraint(test.database, { key });
    expect(added).toMatchObject({ outcome: 'created', kind: 'constraint', concurrently: true });
    const upsert = await planUpsert(test.database, { key, onDuplicate: 'skip', insertColumns: ['device_id', 'user_id', 'phone', 'niche', 'name'] });
    expect(upsert.arbiters).toEqual(['leads_device_id_phone_key']);
    const rounds = 5;
    for (let round = 1; round <= rounds; round++) {
      const deviceId = 810_000 + round;
      const outcomes = await together(async (client) => {
        const { rows } = await client.query(upsert.sql, [deviceId, 77, '60129990000', 'Property', 'webhook']);
        return rows.length === 1 ? 'inserted' : 'skipped';
      });
      expect(outcomes.filter((o) => o === 'inserted')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'skipped')).toHaveLength(CALLERS - 1);
      expect(await rowsFor(deviceId)).toBe(1);
    }
    console.log(
      `Citus race AFTER: constraint added in ${added.buildMs} ms build + ${added.attachMs} ms attach; ${rounds} rounds of ${CALLERS} concurrent upserts: 1 row each`,
    );
  });
});
