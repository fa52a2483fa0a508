import { describe, expect, it } from 'vitest';
import { renderTable } from '../../src/render/common/table.js';
import { atoms, fitLines, verbatim, wrapText } from '../../src/render/common/wrap.js';

const UUID = '6f1c2a4e-8d3b-4f5a-9c7e-0b2d4e6f8a1c';

describe('wrapping never breaks a value a user copies', () => {
  it('breaks at spaces, but not inside a timestamp, a spaced phone number or a command', () => {
    expect(atoms('created 2026-03-01 12:00:00.25+00 by +60 12-345 6789 (3 rows)')).toEqual([
      'created',
      '2026-03-01 12:00:00.25+00',
      'by',
      '+60 12-345 6789',
      '(3',
      'rows)',
    ]);
    expect(atoms('then run: npx lead-dedupe sql upsert --key mobile,source --on-duplicate skip; or fill')).toEqual([
      'then',
      'run:',
      'npx lead-dedupe sql upsert --key mobile,source --on-duplicate skip;',
      'or',
      'fill',
    ]);
    expect(atoms('call +1 (415) 555-0100 now')).toEqual(['call', '+1 (415) 555-0100', 'now']);
    expect(atoms('restore it: lead-dedupe restore 1 --execute.')).toEqual(['restore', 'it:', 'lead-dedupe restore 1 --execute.']);
    // the program's name in prose is a word like any other
    expect(atoms("in lead-dedupe's schema and by lead-dedupe itself")).toEqual(['in', "lead-dedupe's", 'schema', 'and', 'by', 'lead-dedupe', 'itself']);
  });

  it('puts a value wider than the width on a line of its own, whole', () => {
    expect(wrapText(`ids ${UUID}, ${UUID}`, 20)).toBe(`ids\n${UUID},\n${UUID}`);
    expect(wrapText('  a b c d e f', 6, '    ')).toBe('  a b\n    c\n    d\n    e\n    f');
  });

  it('measures wide characters as the terminal shows them', () => {
    // 山田 takes 4 columns: "名前 山田" is 9 wide
    expect(wrapText('名前 山田 太郎', 9)).toBe('名前 山田\n太郎');
  });

  it('leaves verbatim lines and table lines as they are', () => {
    const literal = `  create function f() returns text return '${'٠١٢٣٤٥٦٧٨٩'.repeat(12)}';`;
    expect(fitLines(['a long line of prose that wraps here', verbatim(literal), ''], 20)).toBe(`a long line of prose\n  that wraps here\n${literal}\n`);
    const table = `│ ${'x'.repeat(40)} │`;
    expect(fitLines(table, 20)).toBe(table);
  });
});

describe('tables fit the width without breaking a value', () => {
  const rows = [
    ['1', '2026-03-01 12:00:00+00', `${UUID}, ${UUID}`],
    ['2', '2026-03-02 08:30:00+00', UUID],
  ];

  it('narrows columns down to their widest value, and every value stays on one line', () => {
    const text = renderTable({ head: ['n', 'created', 'ids'], rows }, 80);
    expect(Math.max(...text.split('\n').map((line) => line.length))).toBeLessThanOrEqual(80);
    expect(text).toContain('│ 1 │ 2026-03-01 12:00:00+00 │');
    expect(text.match(new RegExp(UUID, 'g'))).toHaveLength(3);
  });

  it('turns vertical when the values cannot sit side by side, and overflows rather than break one', () => {
    const vertical = renderTable({ head: ['n', 'created', 'ids'], rows }, 60);
    expect(vertical).toMatch(/│ created │ 2026-03-01 12:00:00\+00 +│/);
    expect(vertical.match(new RegExp(UUID, 'g'))).toHaveLength(3);
    const narrow = renderTable({ head: ['n', 'ids'], rows: [['1', UUID]] }, 30);
    expect(narrow).toContain(UUID);
  });

  it('lays a table out at its natural width when there is no width (a pipe)', () => {
    const text = renderTable({ head: ['n', 'created', 'ids'], rows }, Number.POSITIVE_INFINITY);
    expect(text.split('\n')[1]).toBe(`│ n │ created                │ ids${' '.repeat(UUID.length * 2 + 2 - 3)} │`);
  });
});
