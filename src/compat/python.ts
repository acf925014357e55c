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

/** Python's str.isspace() on one UTF-16 unit (every whitespace character is in the BMP). */
function isPythonSpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d) || (code >= 0x1c && code <= 0x1f);
  if (code < 0x85) return false;
  return code === 0x85 || code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000;
}

/**
 * Python's `text.split()` without a separator: the runs of characters between runs of whitespace
 * as str.isspace() defines it, which is not JavaScript's `\s` (Python's has U+001C..U+001F and
 * U+0085, JavaScript's has U+FEFF). One scan, no regular expression.
 */
export function pythonSplit(text: string): string[] {
  const words: string[] = [];
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    if (isPythonSpace(text.charCodeAt(i))) {
      if (start >= 0) words.push(text.slice(start, i));
      start = -1;
    } else if (start < 0) start = i;
  }
  if (start >= 0) words.push(text.slice(start));
  return words;
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
