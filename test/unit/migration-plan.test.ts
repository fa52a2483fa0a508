import { describe, expect, it } from 'vitest';
import { doStatement, nameGuardBody, preflightBody, transactionBody, verifyBody } from '../../src/sql/migration-plan.js';
import { compileSql, fakeKey, fakeTable } from '../support/compile.js';

const table = fakeTable(['id', 'device_id', 'phone', "o'brien"]);
const devicePhone = fakeKey(table, ['device_id', 'phone'], { name: 'device-phone' });

describe('migration SQL', () => {
  it('doStatement: a dollar-quote tag the body does not hold', () => {
    expect(doStatement('begin\nend')).toBe('do $lead_dedupe$\nbegin\nend\n$lead_dedupe$');
    expect(doStatement('select "$lead_dedupe$"')).toBe('do $lead_dedupe_1$\nselect "$lead_dedupe$"\n$lead_dedupe_1$');
    expect(doStatement('$lead_dedupe$ $lead_dedupe_1$')).toBe('do $lead_dedupe_2$\n$lead_dedupe$ $lead_dedupe_1$\n$lead_dedupe_2$');
  });

  it('transactionBody: the statements of a transaction step inside one block', () => {
    expect(transactionBody(["set local lock_timeout = '5s'", 'alter table "public"."leads" add constraint "k" unique using index "k"'])).toBe(
      'begin\n  set local lock_timeout = \'5s\';\n  alter table "public"."leads" add constraint "k" unique using index "k";\nend',
    );
  });

  it("preflightBody: scan's duplicate groups counted, the count raised, no bind parameters", () => {
    expect(compileSql(preflightBody(devicePhone, 'lead-dedupe clean --key device-phone'))).toEqual({
      sql: `declare
  lead_dedupe_groups bigint;
  lead_dedupe_surplus bigint;
begin
  select count(*), coalesce(sum(n - 1), 0) into lead_dedupe_groups, lead_dedupe_surplus
    from (select "device_id" as "ld_k1", "phone" as "ld_k2", count(*) as n
from "public"."leads"
where "device_id" is not null and "phone" is not null
group by 1, 2
having count(*) > 1) as duplicate_groups;
  if lead_dedupe_groups > 0 then
    raise exception 'lead-dedupe: % duplicate group(s) (% surplus row(s)) under key % on %; a unique index cannot be built until they are removed: review the plan with %, then run it with --execute; nothing was built', lead_dedupe_groups, lead_dedupe_surplus, 'device-phone', 'public.leads', 'lead-dedupe clean --key device-phone';
  end if;
end`,
      parameters: [],
    });
  });

  it('names reach the guard and the verify as quoted literals, never pasted', () => {
    const odd = fakeTable(['id', 'device_id', 'phone'], 'sales', "it's");
    const guard = compileSql(nameGuardBody(odd, "it's_key", 'constraint'));
    expect(guard.parameters).toEqual([]);
    expect(guard.sql).toContain("where n.nspname = 'sales' and c.relname = 'it''s_key';");
    expect(guard.sql).toContain("where tn.nspname = 'sales' and t.relname = 'it''s')");
    const verify = compileSql(verifyBody(odd, "it's_key", 'expression-index'));
    expect(verify.parameters).toEqual([]);
    expect(verify.sql).toContain("c.relname = 'it''s_key' and i.indisunique and i.indisvalid");
    expect(verify.sql).toContain(`raise exception using message = 'lead-dedupe: no valid unique index "it''s_key" on sales.it''s';`);
  });
});
