import type { Writable } from 'node:stream';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { checkedSnapshotId } from './shared-snapshot.js';
import { TRANSACTION_PIN_STATEMENTS } from './session-pin.js';

/**
 * Runs `COPY (…) TO STDOUT` on one pooled connection and pipes the bytes
 * PostgreSQL formats into `destination`, which is left open so several COPYs
 * can append to one file. Memory stays flat: pg-copy-streams honours
 * back-pressure. Returns the rows copied. The COPY runs in a read-only
 * REPEATABLE READ transaction; with `snapshotId` it imports that exported
 * snapshot (db/shared-snapshot.ts), so it reads what the statements beside it read.
 */
export async function copyOut(
  pool: pg.Pool,
  settings: { text: string; values: string[] },
  copyStatement: string,
  destination: Writable,
  snapshotId: string | null = null,
): Promise<number> {
  const client = await pool.connect();
  let failed = false;
  try {
    // One transaction: behind a transaction-mode pooler the settings, the pin and the COPY then run on one server session.
    await client.query('begin transaction isolation level repeatable read read only');
    if (snapshotId !== null) await client.query(`set transaction snapshot '${checkedSnapshotId(snapshotId)}'`);
    // The client may be new to the pool, never set up by kysely: the tool's settings and pin for this transaction
    // only (nothing stays on a server session the tool never claimed), after the import (which must come first).
    await client.query(settings.text, settings.values);
    for (const statement of TRANSACTION_PIN_STATEMENTS) await client.query(statement);
    const source = client.query(copyTo(copyStatement));
    await new Promise<void>((resolve, reject) => {
      source.on('error', reject);
      destination.on('error', reject);
      source.on('end', resolve);
      source.pipe(destination, { end: false });
    });
    await client.query('commit');
    return source.rowCount;
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    // A connection whose COPY broke off may be mid-protocol: do not reuse it.
    client.release(failed);
  }
}
