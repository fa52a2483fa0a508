import { describe, expect, it } from 'vitest';
import { moveBackByCopyStatements } from '../../src/clean/restore/restore-sql.js';
import { compileSql } from '../support/compile.js';

/**
 * Restore's move back across Citus shards: the same move-by-copy as clean's
 * (its golden form is in golden/clean/citus.sql), with the archived old
 * values in place of the keeper's.
 */
describe('move back by copy (restore on a Citus child)', () => {
  const target = {
    child_schema: 'public',
    child_table: 'activities',
    constraint_name: 'activities_fk',
    column_name: 'device_id, lead_id',
    columns: ['device_id', 'lead_id'],
    pk_columns: ['device_id', 'id'],
  };

  it('deletes and re-inserts the rows whose distribution value goes back, updates the others in place, only rows still holding what the move wrote', () => {
    const [across, inPlace] = moveBackByCopyStatements(target, 'device_id').map((statement) => compileSql(statement));
    expect(across).toEqual({
      sql: `with moved as (
  delete from "public"."activities" as c
  using "pg_temp"."ld_move_back" as m
  where "c"."device_id" = m."pk_device_id" and "c"."id" = m."pk_id" and "c"."device_id" is not distinct from m."new_device_id" and "c"."lead_id" is not distinct from m."new_lead_id" and "c"."device_id" is distinct from m."old_device_id"
  returning c.*, m."old_device_id" as "ld_old_0", m."old_lead_id" as "ld_old_1")
insert into "public"."activities" overriding system value
select (jsonb_populate_record(null::"public"."activities", to_jsonb(moved) || jsonb_build_object($1::text, moved."ld_old_0", $2::text, moved."ld_old_1"))).*
from moved`,
      parameters: ['device_id', 'lead_id'],
    });
    expect(inPlace).toEqual({
      sql: `update "public"."activities" as c
set "lead_id" = m."old_lead_id"
from "pg_temp"."ld_move_back" as m
where "c"."device_id" = m."pk_device_id" and "c"."id" = m."pk_id" and "c"."device_id" is not distinct from m."new_device_id" and "c"."lead_id" is not distinct from m."new_lead_id"`,
      parameters: [],
    });
  });
});
