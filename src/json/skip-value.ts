/**
 * Checks one JSON value in bytes without building it: the strict grammar of RFC 8259 (numbers,
 * strings with their escapes, literals, nesting), UTF-8 inside strings, and that every number is
 * finite as JSON.parse would read it. For members nobody reads but everybody must validate, such
 * as LVIS polygons (most of a 1.1 GB file): converting their digits to doubles is what makes
 * JSON.parse slow there, and this does none of that.
 */

/** The bytes ended before the value did. */
export const INCOMPLETE = -1;

/** Why a skipped value is refused. */
export class SkippedValueProblem extends Error {
  constructor(
    readonly kind: "syntax" | "non-finite",
    message: string,
  ) {
    super(message);
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isDigit = (c: number) => c >= ZERO && c <= NINE;
const isHex = (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

const utf8 = new TextDecoder("utf-8", { fatal: true });
const LITERALS: Record<number, Uint8Array> = {
  0x74: Buffer.from("true"),
  0x66: Buffer.from("false"),
  0x6e: Buffer.from("null"),
};

function syntax(message: string): SkippedValueProblem {
  return new SkippedValueProblem("syntax", message);
}

/**
 * Scans the value starting at `start` (no leading whitespace) and returns the offset just past it,
 * or INCOMPLETE when `end` comes first. With `final`, `end` is known to end the value (a number
 * may then run up to it). Throws SkippedValueProblem on bad syntax or a number out of range.
 */
export function skipJsonValue(bytes: Uint8Array, start: number, end: number, final = false): number {
  // Open containers, innermost last: 1 array, 2 object.
  const stack: number[] = [];
  // A number out of range is reported once the whole value is read: bad syntax after it wins, as
  // with JSON.parse.
  const found = { nonFinite: false };
  let i = start;
  for (;;) {
    // A value.
    if (i >= end) return INCOMPLETE;
    let c = bytes[i]!;
    if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      i++;
      while (i < end && isSpace(bytes[i]!)) i++;
      if (i >= end) return INCOMPLETE;
      if (c === OPEN_ARRAY) {
        if (bytes[i] !== CLOSE_ARRAY) {
          stack.push(1);
          continue;
        }
        i++;
      } else {
        if (bytes[i] !== CLOSE_OBJECT) {
          stack.push(2);
          i = skipKey(bytes, i, end);
          if (i === INCOMPLETE) return INCOMPLETE;
          continue;
        }
        i++;
      }
    } else if (c === QUOTE) {
      i = skipString(bytes, i, end);
      if (i === INCOMPLETE) return INCOMPLETE;
    } else if (c === MINUS || isDigit(c)) {
      if (stack.length > 0 && stack[stack.length - 1] === 1) {
        // In an array: run through the numbers (a polygon) in one table-driven loop.
        const run = skipNumberRun(bytes, i, end);
        if (run === INCOMPLETE) return INCOMPLETE;
        if (run < 0) {
          // This one number needs the careful reading (an exponent, or 308+ integer digits); or a
          // value that is no number follows a comma.
          i = -run - 2;
          c = bytes[i]!;
          if (!(c === MINUS || isDigit(c))) continue;
          i = skipNumber(bytes, i, end, false, found);
          if (i === INCOMPLETE) return INCOMPLETE;
        } else i = run;
      } else {
        i = skipNumber(bytes, i, end, final && stack.length === 0, found);
        if (i === INCOMPLETE) return INCOMPLETE;
      }
    } else {
      const literal = LITERALS[c];
      if (!literal) throw syntax(`unexpected ${describe(c)}`);
      for (let k = 0; k < literal.length; k++, i++) {
        if (i >= end) return INCOMPLETE;
        if (bytes[i] !== literal[k]) throw syntax(`unexpected ${describe(bytes[i]!)}`);
      }
    }
    // After a value: close containers or move to the next element.
    for (;;) {
      if (stack.length === 0) {
        if (found.nonFinite) throw new SkippedValueProblem("non-finite", "a number out of range");
        return i;
      }
      while (i < end && isSpace(bytes[i]!)) i++;
      if (i >= end) return INCOMPLETE;
      c = bytes[i]!;
      const top = stack[stack.length - 1];
      if (c === COMMA) {
        i++;
        while (i < end && isSpace(bytes[i]!)) i++;
        if (top === 2) {
          i = skipKey(bytes, i, end);
          if (i === INCOMPLETE) return INCOMPLETE;
        } else if (i >= end) return INCOMPLETE;
        break;
      }
      if ((c === CLOSE_ARRAY && top === 1) || (c === CLOSE_OBJECT && top === 2)) {
        stack.pop();
        i++;
        continue;
      }
      throw syntax(`unexpected ${describe(c)}`);
    }
  }
}

/** A member's key and its colon; returns where the value starts (after whitespace). */
function skipKey(bytes: Uint8Array, start: number, end: number): number {
  if (start >= end) return INCOMPLETE;
  if (bytes[start] !== QUOTE) throw syntax(`expected a key, got ${describe(bytes[start]!)}`);
  let i = skipString(bytes, start, end);
  if (i === INCOMPLETE) return INCOMPLETE;
  while (i < end && isSpace(bytes[i]!)) i++;
  if (i >= end) return INCOMPLETE;
  if (bytes[i] !== COLON) throw syntax(`expected ':', got ${describe(bytes[i]!)}`);
  i++;
  while (i < end && isSpace(bytes[i]!)) i++;
  return i >= end ? INCOMPLETE : i;
}

function skipString(bytes: Uint8Array, start: number, end: number): number {
  let nonAscii = false;
  for (let i = start + 1; i < end; i++) {
    const c = bytes[i]!;
    if (c === QUOTE) {
      if (nonAscii) {
        try {
          utf8.decode(bytes.subarray(start + 1, i));
        } catch {
          throw syntax("invalid UTF-8 in a string");
        }
      }
      return i + 1;
    }
    if (c === BACKSLASH) {
      if (i + 1 >= end) return INCOMPLETE;
      const e = bytes[++i]!;
      if (e === 0x75) {
        if (i + 4 >= end) return INCOMPLETE;
        for (let k = 1; k <= 4; k++) if (!isHex(bytes[i + k]!)) throw syntax("bad \\u escape");
        i += 4;
      } else if (!(e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74)) {
        throw syntax("bad escape in a string");
      }
    } else if (c < 0x20) throw syntax("control character in a string");
    else if (c >= 0x80) nonAscii = true;
  }
  return INCOMPLETE;
}

// The table of skipNumberRun: byte classes, states and what they lead to.
const enum Class {
  Other,
  Zero,
  Digit,
  Dot,
  Exponent,
  Plus,
  Minus,
  Comma,
  Space,
  Close,
}
const CLASSES = 10;
const CLASS_OF = new Uint8Array(256);
for (let c = 0x31; c <= 0x39; c++) CLASS_OF[c] = Class.Digit;
CLASS_OF[ZERO] = Class.Zero;
CLASS_OF[DOT] = Class.Dot;
CLASS_OF[0x65] = CLASS_OF[0x45] = Class.Exponent;
CLASS_OF[PLUS] = Class.Plus;
CLASS_OF[MINUS] = Class.Minus;
CLASS_OF[COMMA] = Class.Comma;
CLASS_OF[0x20] = CLASS_OF[0x0a] = CLASS_OF[0x0d] = CLASS_OF[0x09] = Class.Space;
CLASS_OF[CLOSE_ARRAY] = Class.Close;

const VALUE = 0;
const AFTER_MINUS = 1;
const AFTER_ZERO = 2;
const AFTER_DOT = 3;
const FRACTION = 4;
const AFTER_NUMBER = 5;
/** INTEGER + k - 1: k integer digits read; at 308 a number may overflow and goes the careful way. */
const INTEGER = 6;
const MAX_FAST_DIGITS = 307;
const STATES = INTEGER + MAX_FAST_DIGITS;
// Outcomes (>= OUTCOMES): the run stops.
const OUTCOMES = STATES;
const BAD = STATES;
const CLOSED = STATES + 1;
const CAREFUL = STATES + 2;

/** The next state times CLASSES (the row it starts), or an outcome times CLASSES. */
const TRANSITIONS = (() => {
  const table = new Uint16Array(STATES * CLASSES).fill(BAD * CLASSES);
  const set = (state: number, cls: Class, next: number) => (table[state * CLASSES + cls] = next * CLASSES);
  const endsNumber = (state: number) => {
    set(state, Class.Comma, VALUE);
    set(state, Class.Space, AFTER_NUMBER);
    set(state, Class.Close, CLOSED);
    set(state, Class.Exponent, CAREFUL);
  };
  for (let cls = 0; cls < CLASSES; cls++) set(VALUE, cls, CAREFUL);
  set(VALUE, Class.Space, VALUE);
  set(VALUE, Class.Zero, AFTER_ZERO);
  set(VALUE, Class.Digit, INTEGER);
  set(VALUE, Class.Minus, AFTER_MINUS);
  set(AFTER_MINUS, Class.Zero, AFTER_ZERO);
  set(AFTER_MINUS, Class.Digit, INTEGER);
  endsNumber(AFTER_ZERO);
  set(AFTER_ZERO, Class.Dot, AFTER_DOT);
  for (let k = 0; k < MAX_FAST_DIGITS; k++) {
    const state = INTEGER + k;
    endsNumber(state);
    set(state, Class.Dot, AFTER_DOT);
    const next = k + 1 < MAX_FAST_DIGITS ? state + 1 : CAREFUL;
    set(state, Class.Zero, next);
    set(state, Class.Digit, next);
  }
  set(AFTER_DOT, Class.Zero, FRACTION);
  set(AFTER_DOT, Class.Digit, FRACTION);
  endsNumber(FRACTION);
  set(FRACTION, Class.Zero, FRACTION);
  set(FRACTION, Class.Digit, FRACTION);
  set(AFTER_NUMBER, Class.Space, AFTER_NUMBER);
  set(AFTER_NUMBER, Class.Comma, VALUE);
  set(AFTER_NUMBER, Class.Close, CLOSED);
  return table;
})();

/**
 * Numbers and commas inside an array, from the number at `start`, one table lookup per byte.
 * Returns the offset of the `]` that closes the array; INCOMPLETE; or, as -(offset) - 2, where the
 * caller must go on carefully: the start of a number with an exponent or 308+ integer digits (which
 * might not be finite), or of a value that is no number.
 */
function skipNumberRun(bytes: Uint8Array, start: number, end: number): number {
  let row = VALUE * CLASSES;
  let i = start;
  for (; i < end; i++) {
    row = TRANSITIONS[row + CLASS_OF[bytes[i]!]!]!;
    if (row >= OUTCOMES * CLASSES) break;
  }
  if (i >= end) return INCOMPLETE;
  const state = row / CLASSES;
  if (state === CLOSED) return i;
  if (state === BAD) throw syntax(`unexpected ${describe(bytes[i]!)} in a number list`);
  // CAREFUL: back to the start of this number (or this value, after a comma).
  let from = i;
  while (from > start && isNumberByte(bytes[from - 1]!)) from--;
  if (!isNumberByte(bytes[i]!)) from = i;
  return -from - 2;
}

function isNumberByte(c: number): boolean {
  return isDigit(c) || c === DOT || c === MINUS || c === PLUS || c === 0x65 || c === 0x45;
}

/**
 * -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?. A number can only overflow a double when its decimal
 * exponent reaches 308; only those are converted, exactly as JSON.parse would.
 */
function skipNumber(bytes: Uint8Array, start: number, end: number, endsAtEnd: boolean, found: { nonFinite: boolean }): number {
  let i = start;
  if (bytes[i] === MINUS) i++;
  if (i >= end) return INCOMPLETE;
  let magnitude = 0;
  if (bytes[i] === ZERO) i++;
  else if (isDigit(bytes[i]!)) {
    while (i < end && isDigit(bytes[i]!)) (i++, magnitude++);
  } else throw syntax("bad number");
  if (i < end && bytes[i] === DOT) {
    i++;
    if (i >= end) return INCOMPLETE;
    if (!isDigit(bytes[i]!)) throw syntax("bad number");
    while (i < end && isDigit(bytes[i]!)) i++;
  }
  if (i < end && (bytes[i] === 0x65 || bytes[i] === 0x45)) {
    i++;
    if (i < end && (bytes[i] === PLUS || bytes[i] === MINUS)) i++;
    if (i >= end) return INCOMPLETE;
    if (!isDigit(bytes[i]!)) throw syntax("bad number");
    const negative = bytes[i - 1] === MINUS;
    let exponent = 0;
    while (i < end && isDigit(bytes[i]!)) {
      if (exponent < 1e6) exponent = exponent * 10 + (bytes[i]! - ZERO);
      i++;
    }
    magnitude += negative ? -exponent : exponent;
  }
  // The number may go on in bytes not seen yet.
  if (i >= end && !endsAtEnd) return INCOMPLETE;
  if (magnitude >= 308 && !Number.isFinite(Number(Buffer.from(bytes.buffer, bytes.byteOffset + start, i - start).toString("latin1")))) found.nonFinite = true;
  return i;
}

function describe(c: number | undefined): string {
  if (c === undefined) return "the end of the bytes";
  return c >= 0x21 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, "0")}`;
}
