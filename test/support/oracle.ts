import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { TestDatabase } from './test-database.js';

/**
 * Independent answers to "how many duplicates?", written by hand so that no
 * test compares the tool with itself.
 */
export interface OracleFigures {
  groups: number;
  rowsInGroups: number;
  surplus: number;
  largestGroup: number;
}

/** Plain GROUP BY; with nullsDistinct a NULL in any column keeps a row out. */
export async function sqlOracle(test: TestDatabase, table: string, columns: string[], nullsDistinct: boolean): Promise<OracleFigures> {
  const where = nullsDistinct ? `where ${columns.map((c) => `${c} is not null`).join(' and ')}` : '';
  const [row] = await test.query<{ g: string; r: string; m: string }>(`
    select count(*) as g, coalesce(sum(n), 0) as r, coalesce(max(n), 0) as m
    from (select count(*) as n from ${table} ${where} group by ${columns.join(', ')} having count(*) > 1) as groups`);
  return figures(Number(row!.g), Number(row!.r), Number(row!.m));
}

/**
 * Groups rows in JavaScript after normalising each value with
 * libphonenumber-js's own parser: a second implementation of e164.
 */
export async function e164Oracle(
  test: TestDatabase,
  table: string,
  columns: string[],
  phoneColumn: string,
  country: 'MY',
  nullsDistinct: boolean,
): Promise<OracleFigures> {
  const rows = await test.query<Record<string, unknown>>(`select ${columns.join(', ')} from ${table}`);
  const counts = new Map<string, number>();
  for (const row of rows) {
    const values = columns.map((column) => {
      const value = row[column];
      if (column !== phoneColumn || value === null) return value ?? null;
      return parsePhoneNumberFromString(String(value), country)?.number ?? null;
    });
    if (nullsDistinct && values.some((value) => value === null)) continue;
    const key = JSON.stringify(values);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const sizes = [...counts.values()].filter((n) => n > 1);
  return figures(
    sizes.length,
    sizes.reduce((a, b) => a + b, 0),
    Math.max(0, ...sizes),
  );
}

function figures(groups: number, rowsInGroups: number, largestGroup: number): OracleFigures {
  return { groups, rowsInGroups, surplus: rowsInGroups - groups, largestGroup };
}
