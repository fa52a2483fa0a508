import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CsvFieldReader } from '../../src/scan/csv-fields.js';
import { GroupFigures } from '../../src/scan/group-figures.js';

// PostgreSQL's CSV quoting: a field with a comma, quote, CR or LF is quoted, a quote inside doubled.
const CSV = [
  'key,group_id,group_size,rank_in_group,keep,id,name',
  'k,g1,3,1,true,10,plain',
  '"a,b",g1,3,2,false,"1""1","with, comma"',
  'k,g1,3,3,false,12,"two\nlines, and ""quotes"""',
  'k,g2,2,1,true,é-13,"\r"',
  'k,g2,2,2,false,14,',
  '',
].join('\n');

function read(chunks: Buffer[]): string[][] {
  const records: string[][] = [];
  const reader = new CsvFieldReader([2, 3, 5], (values) => records.push([...values]), { header: true });
  for (const chunk of chunks) reader.write(chunk);
  return records;
}

describe('CsvFieldReader', () => {
  const expected = (parse(CSV, { from_line: 2 }) as string[][]).map((record) => [record[2]!, record[3]!, record[5]!]);

  it('reads the chosen fields as csv-parse does, past quoted commas, quotes and newlines', () => {
    expect(expected).toEqual([
      ['3', '1', '10'],
      ['3', '2', '1"1'],
      ['3', '3', '12'],
      ['2', '1', 'é-13'],
      ['2', '2', '14'],
    ]);
    expect(read([Buffer.from(CSV)])).toEqual(expected);
  });

  it('gives the same fields however the bytes are split into chunks', () => {
    const bytes = Buffer.from(CSV);
    for (let first = 0; first <= bytes.length; first++) {
      for (const second of [first, Math.min(bytes.length, first + 1), Math.min(bytes.length, first + 7)]) {
        const chunks = [bytes.subarray(0, first), bytes.subarray(first, second), bytes.subarray(second)];
        expect(read(chunks), `split at ${first} and ${second}`).toEqual(expected);
      }
    }
  });

  it('reads the first record too without a header', () => {
    const records: string[][] = [];
    const reader = new CsvFieldReader([0], (values) => records.push([...values]), { header: false });
    reader.write(Buffer.from('"x,y",1\nz,2\n'));
    expect(records).toEqual([['x,y'], ['z']]);
  });
});

describe('GroupFigures', () => {
  /** Groups in key order, given by their sizes; each row's id is `group.rank`. */
  function figuresOf(sizes: number[], limit: number): GroupFigures {
    const figures = new GroupFigures(limit);
    sizes.forEach((n, group) => {
      for (let rank = 1; rank <= n; rank++) figures.addRow(n, rank, `${group}.${rank}`);
    });
    return figures;
  }

  it('counts groups, rows, the largest and the histogram', () => {
    expect(figuresOf([2, 3, 2, 25, 4, 12], 0).summary()).toEqual({ groups: 6, rows_in_groups: 48, largest: 25, buckets: [2, 1, 1, 1, 1] });
    expect(figuresOf([], 3).summary()).toEqual({ groups: 0, rows_in_groups: 0, largest: null, buckets: [0, 0, 0, 0, 0] });
  });

  it('keeps the largest groups, the first in key order among equal sizes, with every id', () => {
    // groups 0..5 of sizes 2, 3, 3, 4, 3, 2: the top 3 are group 3 (4), then groups 1 and 2 (3, first in key order)
    expect(figuresOf([2, 3, 3, 4, 3, 2], 3).topGroupIds()).toEqual(['3.1', '3.2', '3.3', '3.4', '1.1', '1.2', '1.3', '2.1', '2.2', '2.3']);
    expect(figuresOf([2, 3, 3, 4, 3, 2], 0).topGroupIds()).toEqual([]);
    expect(figuresOf([2, 2], 5).topGroupIds()).toEqual(['0.1', '0.2', '1.1', '1.2']);
  });
});
