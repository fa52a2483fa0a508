/**
 * Precision, recall and F1 of the suspects against a ground truth (rows of
 * one person share a truth value), over the pairs the exact key does not
 * already group: the pairs reported, and the pairs their groups imply
 * (every two rows of a group).
 */
export interface Scores {
  /** Pairs reported (or implied by the groups). */
  predicted: number;
  /** Of those, the same person. */
  truePositives: number;
  /** Pairs of rows of one person the key does not group. */
  truth: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface Evaluation {
  truthColumn: string;
  pairs: Scores;
  groups: Scores;
}

export interface EvaluatedRow {
  truth: unknown;
  /** The exact key's group id, null when the key cannot group the row. */
  key: string | null;
}

function scores(predicted: number, truePositives: number, truth: number): Scores {
  const precision = predicted === 0 ? 1 : truePositives / predicted;
  const recall = truth === 0 ? 1 : truePositives / truth;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { predicted, truePositives, truth, precision, recall, f1 };
}

const samePerson = (x: EvaluatedRow, y: EvaluatedRow) => x.truth !== null && x.truth !== undefined && String(x.truth) === String(y.truth);
const caughtByKey = (x: EvaluatedRow, y: EvaluatedRow) => x.key !== null && x.key === y.key;

/** Counted group by group as the suspects are read (a row is in one group only), so nothing of a group is kept after it. */
export class EvaluationTally {
  private pairs = 0;
  private pairHits = 0;
  private implied = 0;
  private impliedHits = 0;

  constructor(readonly truthColumn: string) {}

  /** One group: its pairs, and (every two rows of it) the pairs it implies; `rows` has each of its rows. */
  add(group: { ids: readonly string[]; pairs: readonly { a: string; b: string }[] }, rows: ReadonlyMap<string, EvaluatedRow>): void {
    const row = (id: string) => rows.get(id) ?? { truth: null, key: null };
    this.pairs += group.pairs.length;
    this.pairHits += group.pairs.filter((p) => samePerson(row(p.a), row(p.b))).length;
    for (let i = 0; i < group.ids.length; i++) {
      for (let j = i + 1; j < group.ids.length; j++) {
        const [x, y] = [row(group.ids[i]!), row(group.ids[j]!)];
        if (caughtByKey(x, y)) continue;
        this.implied++;
        if (samePerson(x, y)) this.impliedHits++;
      }
    }
  }

  /** `truthPairs`: the pairs of one person the key does not group, counted in SQL. */
  result(truthPairs: number): Evaluation {
    return {
      truthColumn: this.truthColumn,
      pairs: scores(this.pairs, this.pairHits, truthPairs),
      groups: scores(this.implied, this.impliedHits, truthPairs),
    };
  }
}
