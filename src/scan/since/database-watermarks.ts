import type { Database } from '../../db/database.js';
import { sqlStateOf } from '../../db/database-error.js';
import { UsageError } from '../../errors.js';
import {
  addDetailsColumnStatement,
  readWatermarksQuery,
  WATERMARK_TABLE,
  watermarkDdl,
  watermarkTableStateQuery,
  writeWatermarksStatement,
} from '../sql/watermark-sql.js';
import { rowNumber } from '../../db/row-numbers.js';
import { decodeStateDetails, encodeStateDetails, watermarkId, type WatermarkKey, type WatermarkState, type WatermarkStore } from './watermark-key.js';

/**
 * Watermarks in the tool's schema. Checked before the scan: a read-only
 * server or session, or a role that may not create or move them, is a usage
 * error (exit 2, nothing scanned) that points at --state-file. The table is
 * created on first use; CREATE runs only when the schema or table is missing,
 * as IF NOT EXISTS still needs the right to create.
 */
export async function openDatabaseWatermarks(database: Database, schema: string): Promise<WatermarkStore> {
  const where = `${schema}.${WATERMARK_TABLE}`;
  const refuse = (why: string) =>
    new UsageError(`scan --since last keeps its watermarks in ${where}, but ${why}; give --state-file <path> to keep them in a file`);
  const state = database.features.readOnly;
  if (state !== null) throw refuse(state === 'standby' ? 'the server is a read-only standby' : 'the session is read-only');
  const connection = database.db;
  const check = async () => (await watermarkTableStateQuery(schema).execute(connection)).rows[0]!;
  let found = await check();
  if (!found.table_exists) {
    const create = () =>
      connection.transaction().execute(async (trx) => {
        for (const statement of watermarkDdl(schema, !found.schema_exists)) await statement.execute(trx);
      });
    try {
      await create();
    } catch (error) {
      const code = sqlStateOf(error);
      if (code === '42501') throw refuse(`this role may not create it (${error instanceof Error ? error.message : String(error)})`);
      // Two first runs can race on CREATE … IF NOT EXISTS; the second attempt sees the winner's table.
      if (code !== '23505' && code !== '42P07') throw error;
      await create();
    }
    found = await check();
  }
  if (found.writable !== true) throw refuse('this role may not read and update it (SELECT, INSERT and UPDATE)');
  // A table an older version made lacks the details column: its owner adds it; anyone else keeps watermarks only, and is told.
  if (!found.has_details && found.owned === true) {
    await addDetailsColumnStatement(schema).execute(connection);
    found = await check();
  }
  const withDetails = found.has_details;
  return {
    describe: where,
    limitation: withDetails
      ? null
      : `${where} has no details column and this role does not own it, so reported groups may alert again within the overlap and a timestamp-without-time-zone column is windowed by the clock alone; its owner can run: alter table ${where} add column details text`,
    async read(keys: WatermarkKey[]) {
      const result = new Map<string, WatermarkState>();
      for (const table of new Set(keys.map((key) => key.table))) {
        const { rows } = await readWatermarksQuery(schema, table, withDetails).execute(connection);
        for (const row of rows) {
          result.set(
            watermarkId({ table, keyName: '', definition: row.key_definition }),
            decodeStateDetails(new Date(rowNumber(row.watermark_ms, 'watermark_ms')), row.details),
          );
        }
      }
      return result;
    },
    async write(entries) {
      if (entries.length === 0) return;
      const rows = entries.map(({ key, state }) => ({
        table: key.table,
        definition: key.definition,
        keyName: key.keyName,
        watermark: state.watermark,
        details: withDetails ? encodeStateDetails(state) : null,
      }));
      await writeWatermarksStatement(schema, rows).execute(connection);
    },
  };
}
