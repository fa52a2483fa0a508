import { UsageError } from '../../errors.js';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { MAX_IDENTIFIER_BYTES } from '../../sql/constraint-plan.js';

export const DEFAULT_LOCK_TIMEOUT = '5s';

/** `5s`, `500ms`, `1min`, `2000` (milliseconds): the forms PostgreSQL's lock_timeout takes; 0 would mean wait forever. */
export function parseLockTimeout(text: string): string {
  const value = text.trim();
  const match = /^(\d+)\s*(ms|s|min)?$/.exec(value);
  if (!match || Number(match[1]) === 0) {
    throw new UsageError(`--lock-timeout takes a duration above zero such as 5s, 500ms or 1min; got "${text}"`);
  }
  return match[2] === undefined ? `${match[1]}ms` : `${match[1]}${match[2]}`;
}

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
