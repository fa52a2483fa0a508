import { UsageError } from '../../errors.js';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { MAX_IDENTIFIER_BYTES } from '../../sql/constraint-plan.js';

/** lock_timeout of the short ALTER/DROP steps unless the caller gives one (the CLI parses --lock-timeout). */
export const DEFAULT_LOCK_TIMEOUT_MS = 5_000;

/** A name PostgreSQL would store as given (it silently truncates past 63 bytes, and the catalog lookup would then miss it). */
export function checkIndexName(name: string): string {
  if (name.trim() === '') throw new UsageError('--name must not be empty');
  if (Buffer.byteLength(name) > MAX_IDENTIFIER_BYTES) {
    throw new UsageError(`--name "${name}" is ${Buffer.byteLength(name)} bytes; PostgreSQL names hold at most ${MAX_IDENTIFIER_BYTES}`);
  }
  return name;
}

/** UNIQUE NULLS NOT DISTINCT arrived in PostgreSQL 15. */
export function checkNullsEqualSupported(key: ResolvedKey, serverVersionNum: number): void {
  if (key.nullsEqual && serverVersionNum < 150000) {
    throw new UsageError(
      `--nulls-equal needs UNIQUE NULLS NOT DISTINCT, which PostgreSQL 15 and later have; this server is ${formatVersion(serverVersionNum)}. ` +
        'Without it a unique index lets NULL keys repeat: drop --nulls-equal, or make the key columns NOT NULL',
    );
  }
}

function formatVersion(num: number): string {
  return `${Math.floor(num / 10000)}.${num % 10000}`;
}
