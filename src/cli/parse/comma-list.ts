/** A comma-separated flag value (`--insert-columns a,b`, `--accept 35,1207`): its items, trimmed, empty ones dropped. */
export function commaList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** The same for a flag that may be absent: undefined stays undefined. */
export function optionalCommaList(text: string | undefined): string[] | undefined {
  return text === undefined ? undefined : commaList(text);
}
