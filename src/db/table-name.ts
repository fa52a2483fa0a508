/**
 * `--table` as PostgreSQL reads a possibly schema-qualified name: parts
 * separated by dots, each bare or double-quoted (`"crm.v2".leads`,
 * `"Sales Data"."Leads"`, `""` for a quote inside quotes). The parts are
 * only ever compared with the catalog as data.
 */
export interface TableName {
  /** null: the first table of that name on the search_path. */
  schema: string | null;
  name: string;
}

export interface ParsedTableName {
  /** As written: quoted parts exact, bare parts as typed. */
  exact: TableName;
  /**
   * Bare parts folded to lower case, as PostgreSQL folds unquoted
   * identifiers; tried when no table has the exact name (earlier versions
   * matched names as typed, and `--table "Sales Data.Leads"` must keep working).
   */
  folded: TableName;
}

/** null when the text is not one or two name parts (unbalanced quotes, empty parts, three parts). */
export function parseTableName(text: string): ParsedTableName | null {
  const parts: { text: string; quoted: boolean }[] = [];
  let at = 0;
  for (;;) {
    while (text[at] === ' ') at++;
    if (text[at] === '"') {
      let value = '';
      at++;
      for (;;) {
        const quote = text.indexOf('"', at);
        if (quote < 0) return null;
        value += text.slice(at, quote);
        at = quote + 1;
        if (text[at] !== '"') break;
        value += '"';
        at++;
      }
      if (value === '') return null;
      parts.push({ text: value, quoted: true });
      while (text[at] === ' ') at++;
    } else {
      const end = text.indexOf('.', at);
      const value = (end < 0 ? text.slice(at) : text.slice(at, end)).trim();
      if (value === '' || value.includes('"')) return null;
      parts.push({ text: value, quoted: false });
      at = end < 0 ? text.length : end;
    }
    if (at >= text.length) break;
    if (text[at] !== '.') return null;
    at++;
  }
  if (parts.length > 2) return null;
  const pick = (fold: boolean) => parts.map((part) => (part.quoted || !fold ? part.text : foldCase(part.text)));
  const name = (texts: string[]): TableName => (texts.length === 2 ? { schema: texts[0]!, name: texts[1]! } : { schema: null, name: texts[0]! });
  return { exact: name(pick(false)), folded: name(pick(true)) };
}

/** PostgreSQL folds only ASCII letters of an unquoted identifier (in UTF-8 databases). */
function foldCase(text: string): string {
  return text.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}

/** A name as it must be typed back into --table: quoted unless it is a plain lower-case identifier. */
export function quoteIdentifier(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

export function quotedTableName(table: { schema: string; name: string }): string {
  return `${quoteIdentifier(table.schema)}.${quoteIdentifier(table.name)}`;
}
