import type { ClientParameter } from '../../core/client/upsert-client.js';

/** How a PostgreSQL column travels in Go: the field's type and how the race test makes a value. */
export interface GoType {
  /** The non-NULL Go type. */
  type: string;
  /** A nullable column: a pointer (nil sends NULL), except []byte, whose nil already is NULL. */
  pointer: boolean;
  /** A Go expression of `type`; `n` (an int unique to the race round) is in scope, for key columns. */
  sample(inKey: boolean): string;
}

const INTEGER = /^(smallint|integer|bigint)$/;
const TIME = /^(timestamp|date)\b/;

/**
 * PostgreSQL's format_type() → Go. Every driver of the three (lib/pq, pgx
 * stdlib, pgx native) sends these in both the extended and the simple
 * protocol. numeric travels as a string (exact; no float rounding), and so
 * does every type without a closer Go one (uuid, json, inet, arrays as their
 * text literal): the server parses the text into the column's type.
 */
export function goType(pgType: string): GoType {
  const integer = INTEGER.exec(pgType);
  if (integer) {
    const type = ({ smallint: 'int16', integer: 'int32', bigint: 'int64' } as const)[integer[1] as 'smallint' | 'integer' | 'bigint'];
    // a key value unique to the round, inside every integer type's range
    return { type, pointer: true, sample: (inKey) => (inKey ? `${type}(n % 30000)` : `${type}(1)`) };
  }
  if (pgType === 'real' || pgType === 'double precision') {
    const type = pgType === 'real' ? 'float32' : 'float64';
    return { type, pointer: true, sample: (inKey) => (inKey ? `${type}(n)` : `${type}(1)`) };
  }
  if (pgType === 'boolean') return { type: 'bool', pointer: true, sample: () => 'true' };
  if (pgType === 'bytea') return { type: '[]byte', pointer: false, sample: (inKey) => (inKey ? '[]byte(fmt.Sprint(n))' : '[]byte("race")') };
  if (TIME.test(pgType)) {
    // whole seconds: a date or timestamp(0) column stores the value the test compares with
    return { type: 'time.Time', pointer: true, sample: (inKey) => (inKey ? 'time.Unix(int64(n%100000)*86400, 0).UTC()' : 'start') };
  }
  if (pgType.startsWith('numeric')) return { type: 'string', pointer: true, sample: (inKey) => (inKey ? 'fmt.Sprint(n)' : '"1"') };
  if (pgType === 'uuid') {
    return {
      type: 'string',
      pointer: true,
      sample: (inKey) => (inKey ? 'fmt.Sprintf("00000000-0000-4000-8000-%012d", n)' : '"00000000-0000-4000-8000-000000000000"'),
    };
  }
  if (pgType === 'json' || pgType === 'jsonb') return { type: 'string', pointer: true, sample: (inKey) => (inKey ? 'fmt.Sprint(n)' : '"{}"') };
  // text and the rest: a Malaysian mobile number (valid for a phone key normalised to digits or e164), unique per round
  return { type: 'string', pointer: true, sample: (inKey) => (inKey ? 'fmt.Sprintf("6012%07d", n)' : '"race-test"') };
}

/** The field's declared type: nullable columns as pointers. */
export function fieldType(parameter: ClientParameter): string {
  const go = goType(parameter.pgType);
  return parameter.nullable && go.pointer ? `*${go.type}` : go.type;
}

const INITIALISMS = new Set(['id', 'url', 'uri', 'ip', 'api', 'http', 'json', 'sql', 'uuid', 'utm', 'sms', 'crm']);

/**
 * Exported Go identifiers for column names, distinct from each other:
 * `device_id` → DeviceID, `created_at` → CreatedAt, `2fa code` → C2faCode.
 */
export function goFieldNames(columns: string[]): string[] {
  const used = new Set<string>();
  return columns.map((column) => {
    const words = column.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
    let name = words.map((word) => (INITIALISMS.has(word.toLowerCase()) ? word.toUpperCase() : word[0]!.toUpperCase() + word.slice(1))).join('');
    // Go identifiers start with a letter; an exported one with an upper-case letter
    if (!/^\p{Lu}/u.test(name)) name = `C${name}`;
    let unique = name;
    for (let suffix = 2; used.has(unique); suffix++) unique = `${name}${suffix}`;
    used.add(unique);
    return unique;
  });
}

/** A Go string literal for any text: a raw string when it holds no backquote (SQL reads better), else an interpreted one. */
export function goString(text: string): string {
  // JSON's escapes (\", \\, \n, \uXXXX) are all valid in a Go interpreted string.
  return text.includes('`') || text.includes('\r') ? JSON.stringify(text) : `\`${text}\``;
}

/** Text for a Go line comment: one line, whatever a column name holds. */
export function goCommentText(text: string): string {
  return text.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ');
}
