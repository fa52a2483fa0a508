import type { Database } from '../../db/database.js';
import { UsageError } from '../../errors.js';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { NORMALIZE_FUNCTION_MIN_SERVER, normalizeFunctionName, type NormalizeFunction } from '../../keys/normalize-function.js';
import {
  createNormalizeFunctionIfMissingStatement,
  createNormalizeFunctionStatement,
  createNormalizeSchemaStatement,
} from '../../sql/normalize-function-plan.js';
import type { NormalizeFunctionState } from './deparse-key.js';
import { planStatement, type SqlStep } from './sql-step.js';

/**
 * The step that creates the rule functions a normalised key's index needs
 * (keys/normalize-function.ts), before the build; null when they all exist.
 * Refuses (exit 2, nothing changed) a name that holds anything but exactly
 * the tool's function: an index may depend on it, so it is never replaced.
 */
export function createFunctionsStep(
  database: Database,
  key: ResolvedKey,
  functions: { fn: NormalizeFunction; state: NormalizeFunctionState }[],
  options: { forMigration?: boolean } = {},
): SqlStep | null {
  if (functions.length === 0) return null;
  if (database.features.serverVersionNum < NORMALIZE_FUNCTION_MIN_SERVER) {
    throw new UsageError(
      `key ${key.name} is normalised: its index uses a SQL function with a standard body (RETURN …), which needs PostgreSQL 14 or later; this server is ${database.features.serverVersionNum}`,
    );
  }
  const different = functions.find((f) => f.state === 'different');
  if (different !== undefined) {
    const name = normalizeFunctionName(different.fn);
    throw new UsageError(
      `${name} exists but is not lead-dedupe's definition of that rule (changed by hand, or another overload); an index may depend on it, so it is never replaced: ` +
        `inspect it with \\df+ ${name}, and drop it (with the indexes that use it) if it is not needed; nothing was changed`,
    );
  }
  // A migration runs on another database, up, down and up again (down leaves the function: other indexes may use it):
  // there each function is created only when missing, inside the step's DO block.
  const missing = options.forMigration ? functions : functions.filter((f) => f.state === 'missing');
  if (missing.length === 0) return null;
  const create = (fn: NormalizeFunction) => (options.forMigration ? createNormalizeFunctionIfMissingStatement(fn) : createNormalizeFunctionStatement(fn));
  return {
    transaction: true,
    statements: [createNormalizeSchemaStatement(), ...missing.map((f) => create(f.fn))].map((query) => planStatement(database, query)),
  };
}
