/**
 * Never echo a password back into a terminal or a cron mail (URL or keyword form).
 * A URL's user info runs from `//` to the last `@` of the string: a malformed URL
 * may hold raw `@`, `/`, `?` or `#` in its password, and only the last `@` is sure
 * to follow the whole of it. The user (before the first `:`) stays; everything
 * after it up to that `@` becomes `***`, even when that hides part of the host.
 *
 * @example redact('postgres://postgres:S3cret@PW@host/db') // 'postgres://postgres:***@host/db'
 */
export function redact(text: string): string {
  const url = /^(\s*postgres(?:ql)?:\/\/)(.*)$/s.exec(text);
  const masked = url === null ? text : `${url[1]}${redactUserInfo(url[2]!)}`;
  return masked.replace(/(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi, '$1***');
}

/** After `//`: `user:***@rest` when a `:` comes before the last `@`, else unchanged (no password there). */
function redactUserInfo(rest: string): string {
  const region = passwordRegion(rest);
  return region === null ? rest : `${rest.slice(0, region.start)}***${rest.slice(region.end)}`;
}

/** What redact hides after `//`: from the first `:` to the last `@`; null when no `:` comes before the last `@`. */
function passwordRegion(rest: string): { start: number; end: number } | null {
  const at = rest.lastIndexOf('@');
  const colon = rest.indexOf(':');
  return at < 0 || colon < 0 || colon > at ? null : { start: colon + 1, end: at };
}

/**
 * The text a URL may hold as its password, as redact sees it (everything
 * between the user's `:` and the last `@`); null for keyword strings and
 * URLs without one. libpq ends the password at the first `@` (and the user
 * info at the first `/`), so a raw `@`, `/`, `?` or `#` in a password makes
 * libpq read part of it as host, port, database or query.
 */
export function urlPasswordText(text: string): string | null {
  const url = /^\s*postgres(?:ql)?:\/\/(.*)$/s.exec(text);
  if (url === null) return null;
  const region = passwordRegion(url[1]!);
  return region === null ? null : url[1]!.slice(region.start, region.end);
}

/**
 * A message about `text` with every piece of its would-be password (split
 * where libpq splits a URL) masked inside quoted values, so no fragment of a
 * mistyped password reaches a terminal.
 */
export function maskPasswordPieces(message: string, text: string): string {
  const whole = message.split(text).join(redact(text));
  const secret = urlPasswordText(text);
  if (secret === null) return whole;
  const pieces = secret.split(/[@/?#:&=,[\]]+/).filter((piece) => piece !== '');
  return whole.replace(/"([^"]*)"/g, (quoted, inner: string) => (inner === redact(text) || !pieces.some((piece) => inner.includes(piece)) ? quoted : '"***"'));
}

/**
 * The connection string without its password (URL user info, `?password=`,
 * keyword `password=`), for a command the user is told to paste: unlike
 * redact's ***, what is left still connects, with the password from
 * PGPASSWORD or the pgpass file.
 *
 * @example withoutPassword('postgres://dba:s3cret@db1/crm')   // 'postgres://dba@db1/crm'
 * @example withoutPassword("host=db1 password='a b' dbname=crm") // 'host=db1 dbname=crm'
 */
export function withoutPassword(text: string): string {
  const url = /^(postgres(?:ql)?:\/\/)(.*)$/s.exec(text.trim());
  if (url !== null) {
    return `${url[1]}${withoutUserPassword(url[2]!)}`.replace(/([?&])password=[^&#]*(&|$)/i, (_, before: string, after: string) =>
      after === '&' ? before : '',
    );
  }
  return text.replace(/\s*\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/gi, '').trim();
}

/**
 * After `//`, the user info without its password. Only strings that parsed
 * reach here, whose password holds no raw `?`, so the user info ends at the
 * last `@` before the query (a `@` in the query is not the password's).
 */
function withoutUserPassword(rest: string): string {
  const query = rest.indexOf('?');
  const authority = query < 0 ? rest : rest.slice(0, query);
  const at = authority.lastIndexOf('@');
  const colon = authority.indexOf(':');
  if (at < 0 || colon < 0 || colon > at) return rest;
  return `${rest.slice(0, colon)}${rest.slice(at)}`;
}
