import { isTextColumn, requireColumn } from '../db/catalog.js';
import type { Db } from '../db/database.js';
import { installedExtensions } from '../db/extensions.js';
import { UsageError } from '../errors.js';
import type { ResolvedKey } from '../keys/key-definition.js';
import { requireTimeColumn } from '../keys/resolve-key.js';
import { callingCodeFor } from '../keys/normalize.js';
import {
  OUTCOMES,
  type ComparatorKind,
  type ResolvedBlock,
  type ResolvedComparator,
  type SuspectFunctions,
  type SuspectsConfig,
  type SuspectsModel,
} from './model.js';

/** Text comparators need text columns (their forms are text functions). */
const TEXT_KINDS: readonly ComparatorKind[] = ['phone', 'email', 'name'];

/**
 * The configuration checked against the catalog: every column exists and
 * fits its comparator, each block's columns are known, and which of
 * pg_trgm, fuzzystrmatch and unaccent are installed (none is created).
 */
export async function resolveSuspectsModel(
  db: Db,
  key: ResolvedKey,
  config: SuspectsConfig,
  settings: { columnMap: Record<string, string>; defaultCountry: string | null },
): Promise<SuspectsModel> {
  const { columnMap } = settings;
  const info = key.table.info;
  const real = (name: string, role: string) => requireColumn(info, columnMap[name] ?? name, role);
  const comparators: ResolvedComparator[] = config.comparators.map((rule) => {
    const column = real(rule.column, `suspects comparator column`);
    if (TEXT_KINDS.includes(rule.kind) && !isTextColumn(column)) {
      throw new UsageError(`suspects comparator ${rule.kind} needs a text column; ${column.name} is ${column.type}`);
    }
    if (rule.kind === 'time') requireTimeColumn(info, column.name, 'suspects time comparator column');
    const known: readonly string[] = OUTCOMES[rule.kind];
    for (const outcome of rule.kind === 'time' ? [] : Object.keys(rule.weights)) {
      if (!known.includes(outcome)) throw new UsageError(`suspects comparator ${rule.kind} has no outcome "${outcome}"; outcomes: ${known.join(', ')}`);
    }
    const buckets = [...(rule.buckets ?? [])].sort((a, b) => a.seconds - b.seconds);
    return { column: column.name, kind: rule.kind, weights: rule.weights, buckets };
  });
  const kindOf = (column: string) => comparators.find((c) => c.column === column)?.kind ?? null;
  const blocks: ResolvedBlock[] = config.blocks.map((block) => {
    if (block.oneEdit && block.columns.length !== 1) throw new UsageError(`suspects block "${block.name}": oneEdit takes exactly one column`);
    const columns = block.columns.map((name) => {
      const column = real(name, `suspects block "${block.name}" column`).name;
      return { column, kind: kindOf(column) };
    });
    if (block.oneEdit && !isTextColumn(real(block.columns[0]!, 'column'))) throw new UsageError(`suspects block "${block.name}": oneEdit needs a text column`);
    return { name: block.name, columns, oneEdit: block.oneEdit ?? false };
  });
  if (blocks.length === 0) throw new UsageError('suspects needs at least one block: without one no pair is a candidate');
  // a pair's blocks travel as the bits of an int8
  if (blocks.length > 62) throw new UsageError(`suspects takes at most 62 blocks; the config has ${blocks.length}`);
  const installed = await installedExtensions(db, ['pg_trgm', 'fuzzystrmatch', 'unaccent']);
  const functions: SuspectFunctions = {
    pgTrgm: installed.get('pg_trgm') ?? null,
    fuzzystrmatch: installed.get('fuzzystrmatch') ?? null,
    unaccent: installed.get('unaccent') ?? null,
  };
  return {
    table: key.table,
    key,
    blocks,
    comparators,
    threshold: config.threshold,
    distinguishing: config.distinguishing.map((name) => real(name, 'suspects distinguishing column').name),
    nameSimilarity: config.nameSimilarity,
    callingCode: settings.defaultCountry === null ? key.callingCode : callingCodeFor(settings.defaultCountry),
    functions,
  };
}

/** What compares names and folds accents here, in words for the report. */
export function describeFunctions(functions: SuspectFunctions): { nameSimilarity: string; accents: string } {
  return {
    nameSimilarity:
      functions.pgTrgm !== null ? 'pg_trgm similarity()' : functions.fuzzystrmatch !== null ? 'fuzzystrmatch levenshtein()' : 'built-in trigram similarity',
    accents: functions.unaccent !== null ? 'unaccent()' : 'built-in normalize()',
  };
}
