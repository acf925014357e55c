/**
 * Python's own behaviours that decide our numbers and offsets, mirrored exactly. Every other module
 * that needs one of them imports it from here, so that each rule lives, and is cited, once.
 */

/** A string indexable by code point: the string itself when it has no surrogate pairs. */
export type CodePoints = string | readonly string[];

/**
 * Python indexes str by code point, JavaScript by UTF-16 unit: a caption with characters outside
 * the BMP is indexed as an array of code points so that offsets agree with the reference.
 */
export function codePoints(text: string): CodePoints {
  return /[\uD800-\uDFFF]/.test(text) ? Array.from(text) : text;
}

/** Python's len() of a str: its length in code points. */
export function codePointLength(text: string): number {
  return codePoints(text).length;
}

const ALPHANUMERIC = /^[\p{L}\p{N}]$/u;

/** Python's str.isalnum() on one character (letters and numerics of any script). */
export function isAlphanumeric(character: string): boolean {
  const code = character.charCodeAt(0);
  if (code < 128) return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
  return ALPHANUMERIC.test(character);
}

/**
 * What Python's open() in text mode reads: universal newlines turn "\r\n" and a lone "\r" into
 * "\n" (the dataset's own readers then split on "\n").
 */
export function universalNewlines(text: string): string {
  return text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text;
}

/** Python 3's round() of a float to an integer: halves go to the even neighbour (round(2.5) == 2). */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction !== 0.5) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Python's `.` in a regular expression (no DOTALL): any character but "\n". JavaScript's `.` also
 * stops at "\r", U+2028 and U+2029, so patterns ported from Python spell it out with this class.
 */
export const PYTHON_REGEX_DOT = "[^\\n]";
