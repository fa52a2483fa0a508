import { describe, expect, it } from 'vitest';
import { readSuspectsConfig } from '../../src/cli/suspects-config.js';
import { EvaluationTally } from '../../src/suspects/evaluate.js';
import { UsageError } from '../../src/errors.js';
import { DEFAULT_SUSPECTS } from '../../src/suspects/model.js';

describe('readSuspectsConfig', () => {
  it('gives the lead defaults without a section, and replaces each setting given whole', () => {
    expect(readSuspectsConfig(undefined)).toBe(DEFAULT_SUSPECTS);
    const config = readSuspectsConfig({
      blocks: [{ name: 'same birth date', columns: ['dob'] }],
      comparators: [{ column: 'seen', kind: 'time', weights: { '2h': 1, '3d': 0.5 } }],
      distinguishing: ['niche'],
    });
    expect(config.blocks).toEqual([{ name: 'same birth date', columns: ['dob'] }]);
    expect(config.comparators[0]!.buckets).toEqual([
      { label: '2h', seconds: 7200, weight: 1 },
      { label: '3d', seconds: 259_200, weight: 0.5 },
    ]);
    expect(config.threshold).toBe(DEFAULT_SUSPECTS.threshold);
    expect(config.distinguishing).toEqual(['niche']);
  });

  it('names the path of a mistake', () => {
    expect(() => readSuspectsConfig({ treshold: 4 })).toThrow(
      new UsageError(
        'config "suspects".treshold is not a setting (did you mean "threshold"?); settings: blocks, comparators, threshold, distinguishing, nameSimilarity',
      ),
    );
    expect(() => readSuspectsConfig({ comparators: [{ column: 'x', kind: 'fuzzy', weights: {} }] })).toThrow(
      /comparators\[0\]\.kind takes phone, email, name, equal, time/,
    );
    expect(() => readSuspectsConfig({ comparators: [{ column: 'x', kind: 'time', weights: { soon: 1 } }] })).toThrow(/weights key takes a duration/);
    expect(() => readSuspectsConfig({ blocks: [{ name: 'b', columns: [] }] })).toThrow(/blocks\[0\]\.columns must name at least one column/);
    expect(() => readSuspectsConfig({ nameSimilarity: 2 })).toThrow(/nameSimilarity must be from 0 to 1/);
  });
});

describe('EvaluationTally', () => {
  it('counts pairs and the pairs groups imply, leaving out pairs the key already groups, group by group', () => {
    const rows = new Map([
      ['1', { truth: 7, key: 'k1' }],
      ['2', { truth: 7, key: 'k1' }],
      ['3', { truth: 7, key: null }],
      ['4', { truth: 8, key: null }],
      ['5', { truth: 9, key: null }],
      ['6', { truth: 9, key: null }],
    ]);
    const tally = new EvaluationTally('t');
    tally.add(
      {
        ids: ['1', '2', '3', '4'],
        pairs: [
          { a: '1', b: '3' },
          { a: '3', b: '4' },
        ],
      },
      rows,
    );
    tally.add({ ids: ['5', '6'], pairs: [{ a: '5', b: '6' }] }, rows);
    const result = tally.result(5);
    expect(result.pairs).toMatchObject({ predicted: 3, truePositives: 2, truth: 5, precision: 2 / 3, recall: 0.4 });
    // group pairs: (1,3) (1,4) (2,3) (2,4) (3,4), (1,2) sharing key k1 left out; then (5,6)
    expect(result.groups).toMatchObject({ predicted: 6, truePositives: 3, truth: 5, precision: 0.5, recall: 0.6 });
  });
});
