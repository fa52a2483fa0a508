/**
 * An independent reading of a Unicode decimal digit: a \p{Nd} character's
 * value is its distance from the start of its run of \p{Nd} code points,
 * modulo 10 (Unicode encodes every decimal digit set as 0-9 in order).
 */
export function unicodeDigitValue(char: string): number | null {
  if (!/^\p{Nd}$/u.test(char)) return null;
  let cp = char.codePointAt(0)!;
  let distance = 0;
  while (/^\p{Nd}$/u.test(String.fromCodePoint(cp - 1))) {
    cp--;
    distance++;
  }
  return distance % 10;
}

/** Every decimal digit as its ASCII digit, other characters untouched. */
export function asciiDigits(text: string): string {
  return [...text].map((char) => unicodeDigitValue(char)?.toString() ?? char).join('');
}
