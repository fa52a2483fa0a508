import stringWidth from 'string-width';

/**
 * Wrapping that never breaks a value a user may copy. Text breaks only at spaces, and not at the
 * spaces inside a timestamp (`2026-03-01 12:00:00+00`), a spaced phone number (`+60 12-345 6789`) or
 * a command (`lead-dedupe …` up to the end of its sentence); a word is never cut. Something longer
 * than the width stays whole on a line of its own, wider than the width (the terminal's own wrapping
 * keeps it one line when copied). Lines a user pastes as they are (SQL) are `verbatim`: never wrapped.
 */

/** Columns a string takes on a terminal (wide East Asian characters count 2), as cli-table3 measures them. */
export function textWidth(text: string): number {
  return stringWidth(text);
}

const TIMESTAMP = String.raw`\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?: ?(?:[+-]\d{2}(?::?\d{2})?|Z|UTC)\b)?`;
/** `+60 12-345 6789`, `+1 (415) 555-0100`: groups of digits, a bracket only around a whole group. */
const DIGIT_GROUP = String.raw`(?:\(\d+\)|\d)[\d().-]*`;
const SPACED_NUMBER = String.raw`\+?${DIGIT_GROUP}(?: ${DIGIT_GROUP})+`;
/** The tool's commands (src/commands; this layer cannot import them), for a bare `lead-dedupe runs` ending a line. */
const COMMAND_NAMES = 'scan|diagnose|report|seed|demo|constraint|index|sql|clean|runs|restore|race';
const PROGRAM = String.raw`(?:(?:npx|node) +)?(?:[^ ]*/)?lead-dedupe(?:\.js)?`;
/**
 * A command: the program (after npx, node or a path), up to two subcommand words, then an option or a
 * number and everything to the end of its sentence or line; or the program and a command ending a line.
 * "lead-dedupe's schema" and "by lead-dedupe itself" are prose.
 */
const COMMAND = String.raw`${PROGRAM} (?:[a-z]+ ){0,2}[-\d].*?(?=[.;] |[.;]?$)|${PROGRAM} (?:${COMMAND_NAMES})(?: [a-z]+)?[.;]?$`;
const UNBREAKABLE = new RegExp(`${COMMAND}|${TIMESTAMP}|${SPACED_NUMBER}`, 'g');

/**
 * The pieces a line may be broken into: runs of text between spaces, where the spaces inside a
 * timestamp, a spaced number or a command do not count.
 */
export function atoms(line: string): string[] {
  const kept: [number, number][] = [...line.matchAll(UNBREAKABLE)].map((match) => [match.index, match.index + match[0].length]);
  const pieces: string[] = [];
  let start = 0;
  for (const space of line.matchAll(/ +/g)) {
    if (kept.some(([from, to]) => space.index > from && space.index < to)) continue;
    if (space.index > start) pieces.push(line.slice(start, space.index));
    start = space.index + space[0].length;
  }
  if (start < line.length) pieces.push(line.slice(start));
  return pieces;
}

/** The widest atom of a (multi-line) text: the narrowest a column can be without breaking a value. */
export function widestAtom(text: string): number {
  return Math.max(0, ...text.split('\n').flatMap((line) => atoms(line).map(textWidth)));
}

/** The widest line of a (multi-line) text. */
export function widestLine(text: string): number {
  return Math.max(0, ...text.split('\n').map(textWidth));
}

/**
 * Fills lines up to `width` with whole atoms; a line's leading spaces are kept, and its continuation
 * lines start with `indent`. An atom wider than the width gets a line of its own.
 */
export function wrapText(text: string, width: number, indent = ''): string {
  return text
    .split('\n')
    .flatMap((line) => wrapLine(line, width, indent))
    .join('\n');
}

function wrapLine(line: string, width: number, indent: string): string[] {
  if (textWidth(line) <= width) return [line];
  const lead = /^ */.exec(line)![0];
  const lines: string[] = [];
  let current = '';
  for (const atom of atoms(line)) {
    const candidate = current === '' ? lead + atom : `${current} ${atom}`;
    if (current === '' || textWidth(candidate) <= width) {
      current = candidate;
      continue;
    }
    lines.push(current);
    current = indent + atom;
  }
  lines.push(current);
  return lines;
}

/** A line to paste as it is (SQL): printed whole, never wrapped. */
export interface Verbatim {
  verbatim: string;
}

export type TextLine = string | Verbatim;

export function verbatim(text: string): Verbatim {
  return { verbatim: text };
}

/**
 * Report text made to fit: tables already do; a longer line of prose wraps with its indent plus two;
 * a verbatim line is left as it is.
 */
export function fitLines(text: string | readonly TextLine[], width: number): string {
  const lines = (typeof text === 'string' ? [text] : text).flatMap((line): TextLine[] => (typeof line === 'string' ? line.split('\n') : [line]));
  return lines
    .map((line) => (typeof line !== 'string' ? line.verbatim : TABLE_LINE.test(line) ? line : wrapText(line, width, `${/^ */.exec(line)![0]}  `)))
    .join('\n');
}

/** A table's line (see table.ts): it fits already, or holds a value wider than the width that must stay whole. */
const TABLE_LINE = /^[│┌└├]/;
