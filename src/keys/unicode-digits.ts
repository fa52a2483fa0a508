/**
 * Every Unicode decimal digit (general category Nd) other than ASCII 0-9, as
 * ranges of code points: the digits and e164 rules map them to ASCII with
 * PostgreSQL's translate() (IMMUTABLE, so unique expression indexes accept
 * it), so '٠٥٥٥١٢٣٤٥٦٧' and '05551234567' are the same phone.
 *
 * Frozen on purpose, generated once by scripts/unicode-digit-ranges.mjs: the
 * list is part of the index expression `constraint add` builds and
 * `sql upsert` names, so it must not change with the Node version running
 * the tool. Adding ranges later means existing normalised indexes no longer
 * match the key's expression (they would have to be rebuilt).
 */
// Unicode 17.0: [first code point, count], each count a multiple of 10 starting at digit zero
export const UNICODE_DIGIT_RANGES: readonly (readonly [number, number])[] = [
  [0x660, 10],
  [0x6f0, 10],
  [0x7c0, 10],
  [0x966, 10],
  [0x9e6, 10],
  [0xa66, 10],
  [0xae6, 10],
  [0xb66, 10],
  [0xbe6, 10],
  [0xc66, 10],
  [0xce6, 10],
  [0xd66, 10],
  [0xde6, 10],
  [0xe50, 10],
  [0xed0, 10],
  [0xf20, 10],
  [0x1040, 10],
  [0x1090, 10],
  [0x17e0, 10],
  [0x1810, 10],
  [0x1946, 10],
  [0x19d0, 10],
  [0x1a80, 10],
  [0x1a90, 10],
  [0x1b50, 10],
  [0x1bb0, 10],
  [0x1c40, 10],
  [0x1c50, 10],
  [0xa620, 10],
  [0xa8d0, 10],
  [0xa900, 10],
  [0xa9d0, 10],
  [0xa9f0, 10],
  [0xaa50, 10],
  [0xabf0, 10],
  [0xff10, 10],
  [0x104a0, 10],
  [0x10d30, 10],
  [0x10d40, 10],
  [0x11066, 10],
  [0x110f0, 10],
  [0x11136, 10],
  [0x111d0, 10],
  [0x112f0, 10],
  [0x11450, 10],
  [0x114d0, 10],
  [0x11650, 10],
  [0x116c0, 10],
  [0x116d0, 20],
  [0x11730, 10],
  [0x118e0, 10],
  [0x11950, 10],
  [0x11bf0, 10],
  [0x11c50, 10],
  [0x11d50, 10],
  [0x11da0, 10],
  [0x11de0, 10],
  [0x11f50, 10],
  [0x16130, 10],
  [0x16a60, 10],
  [0x16ac0, 10],
  [0x16b50, 10],
  [0x16d70, 10],
  [0x1ccf0, 10],
  [0x1d7ce, 50],
  [0x1e140, 10],
  [0x1e2f0, 10],
  [0x1e4f0, 10],
  [0x1e5f1, 10],
  [0x1e950, 10],
  [0x1fbf0, 10],
];

/** The mapping translate() takes: each digit's character, and its ASCII value at the same position. */
function digitMap(): { from: string; to: string } {
  let from = '';
  let to = '';
  for (const [first, count] of UNICODE_DIGIT_RANGES) {
    for (let offset = 0; offset < count; offset++) {
      from += String.fromCodePoint(first + offset);
      to += String(offset % 10);
    }
  }
  return { from, to };
}

export const UNICODE_DIGITS = digitMap();
