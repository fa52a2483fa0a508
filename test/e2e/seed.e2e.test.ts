import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli } from '../support/cli.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

const server = TEST_TARGETS.find((t) => t.label === 'postgres')!;

/** seed --replace through the binary: a user's own table named leads is refused with exit 2, one line, and survives. */
describe.skipIf(!SERVER_URL)('seed --replace (built binary, server)', () => {
  let test: TestDatabase;
  beforeAll(async () => {
    assertBuilt();
    test = await server.open();
  });
  afterAll(async () => test?.close());

  it("refuses a user's own leads table (exit 2) and replaces one seed created", async () => {
    await test.exec(`create table leads (id int primary key, note text);
insert into leads values (1, 'production data');
`);
    const refused = await runCli(['seed', '--database', test.url!, '--rows', '200', '--replace']);
    expect(refused).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'lead-dedupe: seed --replace drops only tables seed created: public.leads was not created by lead-dedupe seed (it lacks its marker), so it is left alone; pick another --table\n',
    });
    const plain = await runCli(['seed', '--database', test.url!, '--rows', '200']);
    expect({ code: plain.code, stderr: plain.stderr }).toEqual({
      code: 2,
      stderr: 'lead-dedupe: table public.leads exists and was not created by lead-dedupe seed; it is left alone; pick another --table\n',
    });
    expect(await test.query('select id, note from leads')).toEqual([{ id: 1, note: 'production data' }]);

    await test.exec('drop table leads;\n');
    expect((await runCli(['seed', '--database', test.url!, '--rows', '300', '--quiet'])).code).toBe(0);
    const replaced = await runCli(['seed', '--database', test.url!, '--rows', '200', '--replace', '--quiet']);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(await test.query('select count(*)::int as n from leads')).toEqual([{ n: 200 }]);
  });
});
