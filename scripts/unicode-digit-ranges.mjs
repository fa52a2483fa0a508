// Prints the Unicode decimal digit (\p{Nd}) ranges of this Node's Unicode
// version as the constant in src/keys/unicode-digits.ts. Run by hand only:
// changing the constant changes the digits/e164 index expression, so an
// index built by an older version would no longer match (see that file).
const runs = [];
let start = null;
for (let cp = 0; cp <= 0x110000; cp++) {
  const digit = cp <= 0x10ffff && /\p{Nd}/u.test(String.fromCodePoint(cp));
  if (digit && start === null) start = cp;
  if (!digit && start !== null) {
    if (start !== 0x30) runs.push([start, cp - start]);
    start = null;
  }
}
console.log(`// Unicode ${process.versions.unicode}: [first code point, count], each count a multiple of 10 starting at digit zero`);
console.log(`export const UNICODE_DIGIT_RANGES: readonly (readonly [number, number])[] = [`);
for (const [first, count] of runs) console.log(`  [0x${first.toString(16)}, ${count}],`);
console.log('];');
