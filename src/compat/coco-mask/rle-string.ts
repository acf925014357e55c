/**
 * The compressed `counts` string of COCO RLE (cocoapi maskApi.c `rleToString` / `rleFrString`): each
 * count, or from the fourth on its difference to the count two before (the previous run of the same
 * colour), in groups of 5 bits, least significant first, as the characters 48..111: bit 0x20 says
 * another group follows, bit 0x10 of the last group is the sign. Arithmetic is done on doubles
 * (exact up to 2^53) where C uses `long`, and stored modulo 2^32 as C's `(uint)` cast does.
 */

const TWO_POW_32 = 2 ** 32;

/** `rleToString`. */
export function rleToString(counts: ArrayLike<number>): string {
  const chars: number[] = [];
  writeCountsString(counts, (c) => chars.push(c));
  // In slices: a spread of millions of arguments overflows the stack.
  let out = "";
  for (let i = 0; i < chars.length; i += 8192) out += String.fromCharCode(...chars.slice(i, i + 8192));
  return out;
}

/** rleToString's characters (as char codes), one call of `emit` each. */
export function writeCountsString(counts: ArrayLike<number>, emit: (charCode: number) => void): void {
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i]!;
    if (i > 2) x -= counts[i - 2]!;
    let more = true;
    while (more) {
      // x & 0x1f and x >>= 5 on a two's-complement long: the floor modulo and the floor division.
      let c = x - Math.floor(x / 32) * 32;
      x = Math.floor(x / 32);
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      emit(c + 48);
    }
  }
}

/** Why a counts string cannot be decoded, or undefined. Strings are what `rleFrString` reads. */
export type CountsStringResult = { counts: Uint32Array } | { problem: string };

/**
 * `rleFrString`, refusing what the C code would read past its end or make up: a character outside
 * 48..111 and a last group that announces another.
 */
export function rleFromString(text: string): CountsStringResult {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 48 || code > 111) return { problem: `character ${i} (${JSON.stringify(text[i])}) is not in the RLE alphabet '0'..'o'` };
    bytes[i] = code;
  }
  return decodeCountsBytes(bytes, 0, bytes.length);
}

/** rleFrString over bytes already known to lie in 48..111 (the compact store of a reader). */
export function decodeCountsBytes(bytes: Uint8Array, start: number, end: number, into?: Uint32Array): CountsStringResult {
  // At most one count per character.
  const cnts = into && into.length >= end - start ? into : new Uint32Array(end - start);
  let m = 0;
  let p = start;
  while (p < end) {
    let x = 0;
    let k = 0;
    let more = true;
    let scale = 1;
    while (more) {
      if (p >= end) return { problem: "the string ends inside a count (its last character has the continuation bit 0x20)" };
      const c = bytes[p]! - 48;
      x += (c & 0x1f) * scale;
      more = (c & 0x20) !== 0;
      p++;
      k++;
      scale *= 32;
      // Sign extension: x |= -1 << 5k for the x < 2^(5k) built so far.
      if (!more && c & 0x10) x -= scale;
    }
    if (m > 2) x += cnts[m - 2]!;
    cnts[m++] = ((x % TWO_POW_32) + TWO_POW_32) % TWO_POW_32;
  }
  return { counts: cnts.subarray(0, m) };
}
