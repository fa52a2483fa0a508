import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { renderAs, type RenderContext } from '../../src/render/common/render-as.js';
import { suspectsRenderer } from '../../src/render/suspects/index.js';
import type { SuspectGroup, SuspectsHeader, SuspectsSummary } from '../../src/suspects/suspects.js';

const CONTEXT: RenderContext = { width: 120, generatedAt: '2026-12-07T19:00:00.000Z', database: 'postgres://127.0.0.1/leads', invocation: 'lead-dedupe' };

const HEADER: SuspectsHeader = {
  table: 'public.leads',
  key: 'device-phone',
  threshold: 5,
  functions: { nameSimilarity: 'built-in trigram similarity', accents: 'normalize()' },
  columns: ['id', 'phone', 'name', 'created_at'],
  blockCounts: [{ block: 'same phone', pairs: 12 }],
  candidates: 9,
  compared: 7,
};

function group(first: number, size: number): SuspectGroup {
  const ids = Array.from({ length: size }, (_, i) => String(first + i));
  return {
    group: ids[0]!,
    ids,
    pairs: ids
      .slice(1)
      .map((id) => ({ a: ids[0]!, b: id, score: 6.5, reasons: 'same phone; names alike (0.72): "José" / Jose\nGarcia', blocks: ['same phone'] })),
    rows: Object.fromEntries(ids.map((id) => [id, { id: Number(id), phone: '+60123', name: `n, "${id}"`, created_at: null }])),
  };
}

const GROUPS = [group(3, 2), group(10, 3), group(40, 2)];
const SUMMARY: SuspectsSummary = { pairCount: 4, groupCount: 3, evaluation: null, durationMs: 12 };

/** Written as the command writes it: the header, the groups in batches (some empty), the summary. */
function streamed(format: 'json' | 'csv' | 'table', batches: SuspectGroup[][], top = 20): string {
  const renderer = suspectsRenderer(format, CONTEXT, top);
  return renderer.start(HEADER) + batches.map((batch) => renderer.items(batch)).join('') + renderer.end(SUMMARY);
}

describe('suspects rendered as the groups are read', () => {
  it('json: byte for byte the report serialised whole, however the groups are batched, and with none', () => {
    const whole = renderAs('json', { json: () => ({ ...HEADER, groups: GROUPS, ...SUMMARY }) }, CONTEXT);
    expect(streamed('json', [GROUPS])).toBe(whole);
    expect(streamed('json', [[], [GROUPS[0]!], [], [GROUPS[1]!, GROUPS[2]!]])).toBe(whole);
    const none = { ...SUMMARY, pairCount: 0, groupCount: 0 };
    const renderer = suspectsRenderer('json', CONTEXT);
    expect(renderer.start(HEADER) + renderer.items([]) + renderer.end(none)).toBe(
      renderAs('json', { json: () => ({ ...HEADER, groups: [], ...none }) }, CONTEXT),
    );
  });

  it('csv: one line per pair with both rows in the table column order, the header alone when there is no pair', () => {
    const text = streamed('csv', [[GROUPS[0]!], [GROUPS[1]!, GROUPS[2]!]]);
    expect(text).toBe(streamed('csv', [GROUPS]));
    const lines = parse(text, { columns: true }) as Record<string, string>[];
    expect(Object.keys(lines[0]!)).toEqual([
      'group',
      'a',
      'b',
      'score',
      'reasons',
      'blocks',
      'a_id',
      'a_phone',
      'a_name',
      'a_created_at',
      'b_id',
      'b_phone',
      'b_name',
      'b_created_at',
    ]);
    expect(lines.map((line) => [line.group, line.a, line.b, line.b_id, line.b_name])).toEqual([
      ['3', '3', '4', '4', 'n, "4"'],
      ['10', '10', '11', '11', 'n, "11"'],
      ['10', '10', '12', '12', 'n, "12"'],
      ['40', '40', '41', '41', 'n, "41"'],
    ]);
    expect(lines[0]!.reasons).toBe(GROUPS[0]!.pairs[0]!.reasons);
    expect(lines[0]!.a_created_at).toBe('');
    expect(streamed('csv', [])).toBe('group,a,b,score,reasons,blocks,a_id,a_phone,a_name,a_created_at,b_id,b_phone,b_name,b_created_at\n');
  });

  it('table: the first --top groups, the totals from the summary, the rest counted', () => {
    const text = streamed('table', [[GROUPS[0]!], [GROUPS[1]!, GROUPS[2]!]], 2);
    expect(text).toContain('4 pairs scored 5 or more, in 3 groups');
    expect(text).toContain('group 3: rows 3, 4');
    expect(text).toContain('group 10: rows 10, 11, 12');
    expect(text).not.toContain('group 40:');
    expect(text).toContain('… and 1 more groups');
  });
});
