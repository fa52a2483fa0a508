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

export function evaluate(
  truthColumn: string,
  pairs: readonly { a: string; b: string }[],
  groups: readonly { ids: readonly string[] }[],
  rows: ReadonlyMap<string, EvaluatedRow>,
  truthPairs: number,
): Evaluation {
  const row = (id: string) => rows.get(id) ?? { truth: null, key: null };
  const pairHits = pairs.filter((p) => samePerson(row(p.a), row(p.b))).length;
  let implied = 0;
  let impliedHits = 0;
  for (const group of groups) {
    for (let i = 0; i < group.ids.length; i++) {
      for (let j = i + 1; j < group.ids.length; j++) {
        const [x, y] = [row(group.ids[i]!), row(group.ids[j]!)];
        if (caughtByKey(x, y)) continue;
        implied++;
        if (samePerson(x, y)) impliedHits++;
      }
    }
  }
  return { truthColumn, pairs: scores(pairs.length, pairHits, truthPairs), groups: scores(implied, impliedHits, truthPairs) };
}
