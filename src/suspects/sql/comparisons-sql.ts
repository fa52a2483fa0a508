import { sql, type RawBuilder } from 'kysely';
import type { ResolvedComparator, SuspectFunctions, TimeBucket } from '../model.js';

/**
 * Per comparator, for a candidate pair whose rows are `a` and `b` (their
 * compared forms in column `f<i>`, stored values in `r<i>`): the outcome
 * (NULL when either side is NULL), then its points and its reason in words.
 */

const ref = (alias: string, column: string) => sql.ref(`${alias}.${column}`);

/** Positions where two equal-length strings differ. */
function differingPositions(a: RawBuilder<unknown>, b: RawBuilder<unknown>): RawBuilder<number> {
  return sql<number>`(select count(*) from pg_catalog.generate_series(1, pg_catalog.length(${a})) as i where pg_catalog.substr(${a}, i, 1) <> pg_catalog.substr(${b}, i, 1))`;
}

/** The first position where two strings differ (one past the shorter when one is a prefix of the other). */
export function firstDifference(a: RawBuilder<unknown>, b: RawBuilder<unknown>): RawBuilder<number> {
  return sql<number>`coalesce((select min(i) from pg_catalog.generate_series(1, least(pg_catalog.length(${a}), pg_catalog.length(${b}))) as i
                   where pg_catalog.substr(${a}, i, 1) <> pg_catalog.substr(${b}, i, 1)), least(pg_catalog.length(${a}), pg_catalog.length(${b})) + 1)`;
}

/** Equal but for one pair of neighbours swapped. */
function swapped(a: RawBuilder<unknown>, b: RawBuilder<unknown>): RawBuilder<boolean> {
  return sql<boolean>`exists (select 1 from pg_catalog.generate_series(1, pg_catalog.length(${a}) - 1) as i
               where overlay(${a} placing pg_catalog.substr(${a}, i + 1, 1) || pg_catalog.substr(${a}, i, 1) from i for 2) = ${b})`;
}

/** `longer` with one character dropped is `shorter`. */
function oneDropped(longer: RawBuilder<unknown>, shorter: RawBuilder<unknown>): RawBuilder<boolean> {
  return sql<boolean>`exists (select 1 from pg_catalog.generate_series(1, pg_catalog.length(${longer})) as i
               where overlay(${longer} placing '' from i for 1) = ${shorter})`;
}

function phoneOutcome(a: RawBuilder<unknown>, b: RawBuilder<unknown>): RawBuilder<string | null> {
  return sql<string | null>`case when ${a} is null or ${b} is null then null
       when ${a} = ${b} then 'same'
       when pg_catalog.length(${a}) = pg_catalog.length(${b}) and ${differingPositions(a, b)} = 1 then 'oneEdit'
       when pg_catalog.length(${a}) = pg_catalog.length(${b}) and ${swapped(a, b)} then 'swapped'
       when pg_catalog.length(${a}) = pg_catalog.length(${b}) + 1 and ${oneDropped(a, b)} then 'oneEdit'
       when pg_catalog.length(${b}) = pg_catalog.length(${a}) + 1 and ${oneDropped(b, a)} then 'oneEdit'
       else 'different' end`;
}

/** Trigram similarity: pg_trgm's when installed, else fuzzystrmatch's Levenshtein ratio, else pg_trgm's definition in plain SQL. */
export function similarity(a: RawBuilder<unknown>, b: RawBuilder<unknown>, functions: SuspectFunctions): RawBuilder<number> {
  if (functions.pgTrgm !== null) return sql<number>`${sql.id(functions.pgTrgm, 'similarity')}(${a}, ${b})::float8`;
  if (functions.fuzzystrmatch !== null) {
    return sql<number>`(1 - ${sql.id(functions.fuzzystrmatch, 'levenshtein')}(pg_catalog.left(${a}, 255), pg_catalog.left(${b}, 255))::float8 / greatest(pg_catalog.length(${a}), pg_catalog.length(${b}), 1))`;
  }
  // each word padded as pg_trgm pads it ("  word "), its distinct trigrams; shared / all
  const trigrams = (value: RawBuilder<unknown>) =>
    sql`select distinct pg_catalog.substr('  ' || w || ' ', i, 3) as t
        from pg_catalog.regexp_split_to_table(${value}, '[^[:alnum:]]+') as w, pg_catalog.generate_series(1, pg_catalog.length(w) + 1) as i
        where w <> ''`;
  return sql<number>`(select coalesce(count(*) filter (where n = 2)::float8 / nullif(count(*), 0), 0)
          from (select t, count(*) as n from (${trigrams(a)} union all ${trigrams(b)}) as both_sides group by t) as shared)`;
}

/**
 * The first, cheap stage of the phone and name comparators: NULL, `same`,
 * or `unsettled` when the forms (the name's sorted words) differ. Which of
 * the open outcomes it is (a phone's `oneEdit`, `swapped` or `different`
 * needs a loop over its digits; a name's `similar` or `different` its
 * similarity, about a millisecond a pair when built in) is decided later,
 * only for pairs whose best possible score reaches the threshold
 * (bestPointsOf, settledOutcomeOf). At 1M rows most candidate pairs are
 * random phones one digit apart with nothing else in common: they are
 * dropped without that work.
 */
function firstStage(a: RawBuilder<unknown>, b: RawBuilder<unknown>, keyA: RawBuilder<unknown>, keyB: RawBuilder<unknown>) {
  return sql<string | null>`case when ${a} is null or ${b} is null then null
       when ${keyA} = ${keyB} then 'same'
       else ${sql.lit(UNSETTLED)} end`;
}

/** The outcome of a phone or name comparator whose forms differ, before the open outcomes are decided. */
export const UNSETTLED = 'unsettled';

/** The outcomes an unsettled first stage leaves open, per kind. */
const OPEN_OUTCOMES: Partial<Record<ResolvedComparator['kind'], readonly string[]>> = {
  phone: ['oneEdit', 'swapped', 'different'],
  name: ['similar', 'different'],
};

/** The smallest bucket the gap fits, else NULL (no points). */
function timeOutcome(a: RawBuilder<unknown>, b: RawBuilder<unknown>, buckets: TimeBucket[]): RawBuilder<string | null> {
  const gap = sql`abs(extract(epoch from (${a})::timestamptz - (${b})::timestamptz))`;
  if (buckets.length === 0) return sql<null>`null::text`;
  return sql<string | null>`case ${sql.join(
    buckets.map((bucket) => sql`when ${gap} <= ${sql.lit(bucket.seconds)} then ${sql.lit(bucket.label)}`),
    sql` `,
  )} end`;
}

/** The outcome of comparator i on the pair (a, b); for phones and names it may be `unsettled` (settledOutcomeOf settles it). */
export function outcomeOf(comparator: ResolvedComparator, index: number): RawBuilder<string | null> {
  const a = ref('a', `f${index}`);
  const b = ref('b', `f${index}`);
  switch (comparator.kind) {
    case 'phone':
      return firstStage(a, b, a, b);
    case 'email':
    case 'equal':
      return sql<string | null>`case when ${a} is null or ${b} is null then null when ${a} = ${b} then 'same' else 'different' end`;
    case 'name':
      return firstStage(a, b, ref('a', `k${index}`), ref('b', `k${index}`));
    case 'time':
      return timeOutcome(a, b, comparator.buckets);
    default:
      return comparator.kind satisfies never;
  }
}

/** Points of an outcome (column `o<i>`). */
export function pointsOf(comparator: ResolvedComparator, outcome: RawBuilder<unknown>): RawBuilder<number> {
  const entries = comparator.kind === 'time' ? comparator.buckets.map((b) => [b.label, b.weight] as const) : Object.entries(comparator.weights);
  if (entries.length === 0) return sql<number>`0`;
  return sql<number>`coalesce(case ${outcome} ${sql.join(
    entries.map(([outcome, weight]) => sql`when ${sql.lit(outcome)} then ${sql.lit(weight)}::float8`),
    sql` `,
  )} end, 0)`;
}

/**
 * The most points an outcome can still give: for an unsettled one the best
 * of its open outcomes' points, else its points. A pair whose best possible
 * score misses the threshold is dropped before its open outcomes are decided.
 */
export function bestPointsOf(comparator: ResolvedComparator, outcome: RawBuilder<unknown>): RawBuilder<number> {
  const open = OPEN_OUTCOMES[comparator.kind];
  if (open === undefined) return pointsOf(comparator, outcome);
  const best = Math.max(...open.map((o) => comparator.weights[o] ?? 0));
  return sql<number>`case when ${outcome} = ${sql.lit(UNSETTLED)} then ${sql.lit(best)}::float8 else ${pointsOf(comparator, outcome)} end`;
}

/** Comparator i's final outcome from its first stage (column `o<i>` of alias `c`): an unsettled phone or name gets its open outcome decided. */
export function settledOutcomeOf(comparator: ResolvedComparator, index: number, threshold: number, functions: SuspectFunctions): RawBuilder<string | null> {
  const outcome = sql.ref(`c.o${index}`);
  const [a, b] = [ref('a', `f${index}`), ref('b', `f${index}`)];
  const decided =
    comparator.kind === 'phone'
      ? phoneOutcome(a, b)
      : comparator.kind === 'name'
        ? sql`case when ${similarity(a, b, functions)} >= ${sql.lit(threshold)} then 'similar' else 'different' end`
        : null;
  if (decided === null) return outcome as RawBuilder<string | null>;
  return sql<string | null>`case when ${outcome} = ${sql.lit(UNSETTLED)} then ${decided} else ${outcome} end`;
}

/** `…` and the tail of a value from just before where two values part. */
function tails(a: RawBuilder<unknown>, b: RawBuilder<unknown>): RawBuilder<string> {
  const from = sql`greatest(${firstDifference(a, b)} - 2, 1)`;
  return sql<string>`'…' || pg_catalog.substr(${a}, ${from}) || ' / …' || pg_catalog.substr(${b}, ${from})`;
}

/** A gap in words: 40 s, 12 min, 3 h, 4 d. */
function gapInWords(a: RawBuilder<unknown>, b: RawBuilder<unknown>): RawBuilder<string> {
  const gap = sql`abs(extract(epoch from (${a})::timestamptz - (${b})::timestamptz))`;
  return sql<string>`case when ${gap} < 60 then round(${gap})::text || ' s'
            when ${gap} < 3600 then round(${gap} / 60)::text || ' min'
            when ${gap} < 172800 then round(${gap} / 3600)::text || ' h'
            else round(${gap} / 86400)::text || ' d' end`;
}

/**
 * The reason of comparator i in words, from its outcome (column `o<i>`), the
 * compared forms (f) and the stored values (r): "phone one digit apart: …780 / …789",
 * "same e-mail but for case, a +tag", "names alike (0.71): José Garcia / Jose Garca", "3 h apart".
 */
export function reasonOf(comparator: ResolvedComparator, index: number, functions: SuspectFunctions): RawBuilder<string | null> {
  const outcome = sql.ref(`o${index}`);
  const [fa, fb, ra, rb] = [ref('a', `f${index}`), ref('b', `f${index}`), ref('a', `r${index}`), ref('b', `r${index}`)];
  const column = comparator.column;
  switch (comparator.kind) {
    case 'phone':
      return sql<string | null>`case ${outcome} when 'same' then ${sql.lit(`same ${column}`)}
            when 'oneEdit' then ${sql.lit(`${column} one digit apart: `)} || ${tails(fa, fb)}
            when 'swapped' then ${sql.lit(`${column} with two digits swapped: `)} || ${tails(fa, fb)}
            when 'different' then ${sql.lit(`${column}s differ`)} end`;
    case 'email': {
      const trimmed = (v: RawBuilder<unknown>) => sql`pg_catalog.btrim(${v}::text)`;
      const untagged = (v: RawBuilder<unknown>) => sql`pg_catalog.regexp_replace(pg_catalog.lower(${trimmed(v)}), '[+][^@]*@', '@')`;
      const buts = sql`pg_catalog.concat_ws(', ',
              case when ${ra}::text <> ${trimmed(ra)} or ${rb}::text <> ${trimmed(rb)} then 'spaces' end,
              case when ${trimmed(ra)} <> ${trimmed(rb)} and (pg_catalog.lower(${trimmed(ra)}) <> ${trimmed(ra)} or pg_catalog.lower(${trimmed(rb)}) <> ${trimmed(rb)}) then 'case' end,
              case when pg_catalog.strpos(pg_catalog.split_part(${ra}::text, '@', 1), '+') > 0 or pg_catalog.strpos(pg_catalog.split_part(${rb}::text, '@', 1), '+') > 0 then 'a +tag' end,
              case when ${untagged(ra)} <> ${untagged(rb)} then 'Gmail dots' end)`;
      return sql<string | null>`case ${outcome} when 'same' then ${sql.lit(`same ${column}`)} || coalesce(' but for ' || nullif(${buts}, ''), '')
            when 'different' then ${sql.lit(`${column}s differ`)} end`;
    }
    case 'name': {
      const buts = sql`pg_catalog.concat_ws(', ',
              case when pg_catalog.lower(${foldOrNot(ra)}) <> pg_catalog.lower(${foldOrNot(rb)}) and ${fa} = ${fb} then 'accents' end,
              case when ${fa} <> ${fb} then 'word order' end,
              case when ${ra}::text <> ${rb}::text and pg_catalog.lower(${foldOrNot(ra)}) = pg_catalog.lower(${foldOrNot(rb)}) then 'case' end)`;
      return sql<
        string | null
      >`case ${outcome} when 'same' then ${sql.lit(`same ${column}`)} || case when ${ra}::text = ${rb}::text then '' else coalesce(' but for ' || nullif(${buts}, ''), '') end
            when 'similar' then ${sql.lit(`${column}s alike (`)} || pg_catalog.to_char(${similarity(fa, fb, functions)}, 'FM0.00') || '): ' || ${ra}::text || ' / ' || ${rb}::text
            when 'different' then ${sql.lit(`${column}s differ`)} end`;
    }
    case 'equal':
      return sql<string | null>`case ${outcome} when 'same' then ${sql.lit(`same ${column}`)} when 'different' then ${sql.lit(`${column} differs`)} end`;
    case 'time':
      return sql<string | null>`case when ${fa} is not null and ${fb} is not null then ${gapInWords(fa, fb)} || ' apart' end`;
    default:
      return comparator.kind satisfies never;
  }
}

/** Lower case with spaces collapsed, accents kept: tells "accents" from "case" in a reason. */
function foldOrNot(value: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`pg_catalog.regexp_replace(pg_catalog.btrim(${value}::text), '[[:space:]]+', ' ', 'g')`;
}
