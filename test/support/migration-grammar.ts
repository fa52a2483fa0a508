/**
 * The migration tools' grammars, written from their documentation, to check
 * the files `constraint add --migration` writes without the tools installed
 * (goose, golang-migrate and Flyway are not packaged here).
 */

/**
 * goose's SQL migration rules: `-- +goose Up` / `-- +goose Down` start the
 * sections, `-- +goose NO TRANSACTION` anywhere turns the file's transaction
 * off, a statement ends at a line whose last word (before any `--`) ends in
 * `;`, unless it sits between `-- +goose StatementBegin` and `-- +goose
 * StatementEnd`, which make it one statement whatever it holds; comment
 * lines before a statement are dropped.
 */
export function parseGoose(text: string): { up: string[]; down: string[]; useTx: boolean } {
  const sections = { up: [] as string[], down: [] as string[] };
  let section: 'up' | 'down' | null = null;
  let inBlock = false;
  let useTx = true;
  let buffer: string[] = [];
  for (const line of text.split('\n')) {
    const annotation = line.startsWith('--') ? line.slice(2).trim() : null;
    if (annotation === '+goose NO TRANSACTION') {
      useTx = false;
      continue;
    }
    if (annotation === '+goose Up' || annotation === '+goose Down') {
      if (buffer.join('').trim() !== '') throw new Error(`unfinished statement before ${annotation}`);
      if (annotation === '+goose Up' && section !== null) throw new Error('duplicate -- +goose Up');
      if (annotation === '+goose Down' && section !== 'up') throw new Error('-- +goose Down before -- +goose Up');
      section = annotation === '+goose Up' ? 'up' : 'down';
      continue;
    }
    if (annotation === '+goose StatementBegin') {
      if (section === null || inBlock) throw new Error('StatementBegin outside a section or nested');
      inBlock = true;
      continue;
    }
    if (annotation === '+goose StatementEnd') {
      if (!inBlock) throw new Error('StatementEnd without StatementBegin');
      inBlock = false;
      sections[section!].push(buffer.join('\n').trim());
      buffer = [];
      continue;
    }
    if (buffer.length === 0 && (line.trim().startsWith('--') || line.trim() === '')) continue;
    if (section === null) throw new Error(`statement before -- +goose Up: ${line}`);
    buffer.push(line);
    if (!inBlock && endsWithSemicolon(line)) {
      sections[section].push(buffer.join('\n').trim());
      buffer = [];
    }
  }
  if (inBlock) throw new Error('missing -- +goose StatementEnd');
  if (section === null) throw new Error('no -- +goose Up');
  if (buffer.join('').trim() !== '') throw new Error('unfinished statement at the end: missing semicolon?');
  return { ...sections, useTx };
}

function endsWithSemicolon(line: string): boolean {
  let last = '';
  for (const word of line.split(/\s+/).filter(Boolean)) {
    if (word.startsWith('--')) break;
    last = word;
  }
  return last.endsWith(';');
}

/** golang-migrate's file names: `<version>_<title>.<up|down>.<ext>`. */
export const GOLANG_MIGRATE_FILE = /^([0-9]+)_(.*)\.(down|up)\.(.*)$/;

/** Flyway's versioned and undo scripts: `V<version>__<description>.sql`, `U<version>__<description>.sql`. */
export const FLYWAY_FILE = /^([VU])([0-9]+(?:[._][0-9]+)*)__([A-Za-z0-9_]+)\.sql$/;

/**
 * PostgreSQL's statement boundaries, as psql and Flyway's parser find them:
 * top-level `;` outside quotes, quoted identifiers, dollar quotes and comments.
 * Returns the statements without their `;`; comment-only text gives none.
 */
export function splitSqlStatements(text: string): string[] {
  const statements: string[] = [];
  let current = '';
  let meaningful = false;
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const dollar = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(rest);
    let token: string;
    if (rest.startsWith('--')) {
      const end = rest.indexOf('\n');
      token = end === -1 ? rest : rest.slice(0, end + 1);
      i += token.length;
      current += token;
      continue;
    }
    if (rest.startsWith('/*')) token = rest.slice(0, rest.indexOf('*/') + 2);
    else if (rest[0] === "'") token = rest.slice(0, closing(rest, "'") + 1);
    else if (rest[0] === '"') token = rest.slice(0, closing(rest, '"') + 1);
    else if (dollar !== null) {
      const tag = dollar[0];
      const end = rest.indexOf(tag, tag.length);
      if (end === -1) throw new Error(`unterminated dollar quote ${tag}`);
      token = rest.slice(0, end + tag.length);
    } else token = rest[0]!;
    i += token.length;
    if (token === ';') {
      if (meaningful) statements.push(stripComments(current).trim());
      current = '';
      meaningful = false;
      continue;
    }
    current += token;
    if (token.trim() !== '' && !token.startsWith('/*')) meaningful = true;
  }
  if (meaningful) throw new Error(`statement without a final ;: ${current.trim()}`);
  return statements;
}

function closing(text: string, quote: string): number {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === quote) {
      if (text[i + 1] === quote) i++;
      else return i;
    }
  }
  throw new Error(`unterminated ${quote}`);
}

/** Leading comment lines of a statement (a step's comment), which the tools send along but are not the statement. */
function stripComments(statement: string): string {
  const lines = statement.split('\n');
  while (lines.length > 0 && (lines[0]!.trim().startsWith('--') || lines[0]!.trim() === '')) lines.shift();
  return lines.join('\n');
}
