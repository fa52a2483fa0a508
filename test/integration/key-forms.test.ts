import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deparseKeyElements, keyForms } from '../../src/core/constraint/deparse-key.js';
import { matchKeys } from '../../src/core/constraint/key-protection.js';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { listUniqueIndexes } from '../../src/db/unique-indexes.js';
import { resolveKeys } from '../../src/keys/resolve-key.js';
import { e164Settings, plainSettings } from '../support/constraint-fixtures.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/** Column names pg_get_indexdef must quote (a reserved word, capitals, a non-ASCII letter) beside plain ones. */
const KEYS = ['device_id,phone', 'order,Phone', 'naïve,user_id', 'user_id'];

/**
 * A key of plain columns skips the temporary probe (deparse-key.ts): its elements are quote_ident's text. The same
 * keys built as real indexes and printed by pg_get_indexdef are the oracle, and the probe must agree with both.
 */
describe.each(TEST_TARGETS.filter((t) => t.available))("a plain key's index elements without the probe, on $label", (target) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await target.open();
    await test.query(`create table forms_leads (id bigserial primary key, created_at timestamptz not null default now(), device_id bigint,
      phone text, "order" text, "Phone" text, "naïve" text, user_id bigint)`);
    await test.query('create unique index forms_order_phone_key on forms_leads ("order", "Phone")');
    await test.query('create unique index forms_naive_user_key on forms_leads ("naïve", user_id)');
  });
  afterAll(async () => test?.close());

  const load = async (keys: string[], settings = plainSettings) => {
    const table = await loadLeadTable(test.database.db, { table: 'forms_leads', idColumn: 'id', createdColumn: 'created_at' });
    return { table, keys: resolveKeys(table, keys, settings).keys };
  };

  it("equal the probe's and pg_get_indexdef's text", async () => {
    const { table, keys } = await load(KEYS);
    const fast = await keyForms(test.database, table, keys);
    const probed = await deparseKeyElements(test.database, table, keys);
    for (const [index, forms] of fast.entries()) {
      expect(forms.elements).toEqual(probed.keys[index]!.inline);
      expect(forms.elements).toEqual(probed.keys[index]!.short);
      expect(forms.forms).toEqual([forms.elements]);
      expect(forms.functions).toEqual([]);
    }
    const printed = await test.query<{ name: string; elements: string[] }>(`select c.relname as name,
        array(select pg_catalog.pg_get_indexdef(i.indexrelid, k, true) from generate_series(1, i.indnkeyatts) as k order by k) as elements
      from pg_index i join pg_class c on c.oid = i.indexrelid where i.indrelid = 'forms_leads'::regclass and not i.indisprimary order by c.relname`);
    expect(printed).toEqual([
      { name: 'forms_naive_user_key', elements: fast[2]!.elements },
      { name: 'forms_order_phone_key', elements: fast[1]!.elements },
    ]);
    expect(fast[1]!.elements).toEqual(['"order"', '"Phone"']);
  });

  it('find the unique indexes that enforce them, and still probe a key with an expression', async () => {
    const { table, keys } = await load(KEYS);
    const matches = await matchKeys(test.database, table, keys, await listUniqueIndexes(test.database, table.info.oid));
    expect(matches.map((match) => match.protecting.map((index) => index.name))).toEqual([[], ['forms_order_phone_key'], ['forms_naive_user_key'], []]);
    expect(matches[3]!.impliedBy).toEqual([]);
    const normalised = await load(['device_id,phone'], { ...plainSettings, ...e164Settings });
    const [forms] = await keyForms(test.database, normalised.table, normalised.keys);
    expect(forms!.elements[0]).toBe('device_id');
    expect(forms!.elements[1]).toMatch(/\.e164_\w+\(phone\)$/);
  });
});
