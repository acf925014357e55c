/**
 * Reading the common shape of an element straight from its bytes into typed arrays, for results
 * files whose millions of small records (`{"image_id": 1, "bbox": [...], "score": 0.5}`) are
 * mostly digits: building a JS object per record and a double per digit run is most of what
 * JSON.parse spends there.
 *
 * A decoder built on this cursor is a fast path, never a second grammar: it takes an element only
 * when it is sure JSON.parse would read it to the same values (ASCII keys without escapes, plain
 * numbers, nothing repeated) and otherwise says so, and the splitter hands that element to
 * JSON.parse and the format's own checks, which give the errors. So everything JSON refuses is
 * still refused, with the same message.
 */
import { BoxListScanner, EXACT_POWERS } from "./box-scanner.js";
import { skipJsonValue } from "./skip-value.js";

/**
 * Takes one element at `start` (no whitespace before it) of a batch, the container's element
 * number `index`, and returns the offset just past it, having kept what it read; or -1, having
 * kept nothing, when the element is not one it is sure of (the splitter then parses it). In an
 * object container the element is a member's value and `key` its key (plain ASCII, checked
 * against the container's other keys); in an array `key` is undefined. A batch is never written
 * to once handed over: a cursor keeps text of it by its identity.
 */
export type ElementDecoder = (bytes: Buffer, start: number, index: number, key: string | undefined) => number;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * Digits whose running value ends below this were read exactly (each step is an integer below
 * 2^53). Not "at most": 9007199254740993 rounds to 2^53 on the last step, so a mantissa equal to
 * it may be a rounded one (90.07199254740993 read one ulp low).
 */
const EXACT_BELOW = 2 ** 53;

/** A key not among the names asked for (its value is skipped). */
const OTHER_KEY = -1;
/** Not something the cursor is sure of: give up on the element. */
const GIVE_UP = -2;

/** How much of a batch one text window holds (`ByteCursor.numberOfText`). */
const TEXT_WINDOW = 16 << 10;

/** What the cursor reads past the end: no byte (reading past a typed array's end would slow every read). */
const END = -1;

export class ByteCursor {
  bytes: Buffer = Buffer.alloc(0);
  end = 0;
  pos = 0;
  /** The last number read. */
  value = 0;

  /** Names as bytes, for `key`. */
  static names(names: readonly string[]): Uint8Array[] {
    return names.map((name) => Buffer.from(name, "latin1"));
  }

  /**
   * Reads `bytes` from `pos`. The bytes must not change while cursors read them: what was made of
   * them (the WebAssembly copy of boxList, numberOfText's text) is kept by the buffer's identity.
   * The readers' pieces are new buffers each (createReadStream's chunks, the splitter's copies).
   */
  at(bytes: Buffer, pos: number): void {
    this.bytes = bytes;
    this.end = bytes.length;
    this.pos = pos;
  }

  /** Skips JSON whitespace; returns the byte after it (END at the end). */
  space(): number {
    const b = this.bytes;
    const n = this.end;
    let i = this.pos;
    let c = i < n ? b[i]! : END;
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = ++i < n ? b[i]! : END;
    this.pos = i;
    return c;
  }

  /** Whitespace, then `c`: true (and past it) when it is there. */
  take(c: number): boolean {
    if (this.space() !== c) return false;
    this.pos++;
    return true;
  }

  /**
   * A JSON number (RFC 8259 grammar) into `value`, exactly as JSON.parse reads it. Digits that fit
   * a double's integer range with a power of ten up to 1e22 are one correctly rounded multiply or
   * divide (Clinger's fast path: both operands exact, one rounding); any other is read by
   * Number(), which rounds as JSON.parse does. False when no valid number starts here; the
   * caller also gives up on a number out of range (value Infinity), for JSON.parse's callers to
   * report.
   */
  number(): boolean {
    const b = this.bytes;
    const n = this.end;
    const start = this.pos;
    let i = start;
    let c = i < n ? b[i]! : END;
    const negative = c === MINUS;
    if (negative) c = ++i < n ? b[i]! : END;
    let mantissa = 0;
    let exponent = 0;
    if (c === ZERO) c = ++i < n ? b[i]! : END;
    else if (c > ZERO && c <= NINE) {
      do {
        mantissa = mantissa * 10 + (c - ZERO);
        c = ++i < n ? b[i]! : END;
      } while (c >= ZERO && c <= NINE);
    } else return false;
    if (c === DOT) {
      c = ++i < n ? b[i]! : END;
      if (c < ZERO || c > NINE) return false;
      do {
        mantissa = mantissa * 10 + (c - ZERO);
        exponent--;
        c = ++i < n ? b[i]! : END;
      } while (c >= ZERO && c <= NINE);
    }
    let plain = true;
    if (c === 0x65 || c === 0x45) {
      c = ++i < n ? b[i]! : END;
      if (c === PLUS || c === MINUS) c = ++i < n ? b[i]! : END;
      if (c < ZERO || c > NINE) return false;
      do c = ++i < n ? b[i]! : END;
      while (c >= ZERO && c <= NINE);
      plain = false;
    }
    this.pos = i;
    // The mantissa only grew, so if it ends below 2^53 every step was exact.
    if (plain && mantissa < EXACT_BELOW && exponent >= -22) {
      const magnitude = exponent === 0 ? mantissa : mantissa / EXACT_POWERS[-exponent]!;
      this.value = negative ? -magnitude : magnitude;
    } else this.value = this.numberOfText(start, i);
    return true;
  }

  /**
   * Text of the bytes around the last number Number() read (`text` holds bytes [textStart,
   * textEnd) of `textOf`): a window of the batch made into one string, whose numbers are then
   * substrings. Float32 results written by Python (`186.2591094970703`: 16-17 digits, past the
   * fast path) are most of a real results file, and a string made from the bytes for each one
   * cost 250 ns against 150 ns for a substring and Number() (measured on 1.1 M such numbers).
   */
  private text = "";
  private textOf: Buffer | undefined;
  private textStart = 0;
  private textEnd = 0;

  /** Number() of bytes [start, end), as JSON.parse rounds. */
  private numberOfText(start: number, end: number): number {
    if (this.textOf !== this.bytes || start < this.textStart || end > this.textEnd) {
      this.textOf = this.bytes;
      this.textStart = start;
      this.textEnd = Math.max(end, Math.min(this.end, start + TEXT_WINDOW));
      this.text = this.bytes.toString("latin1", start, this.textEnd);
    }
    return Number(this.text.substring(start - this.textStart, end - this.textStart));
  }

  /** A number (after whitespace) that is finite; false otherwise. */
  finite(): boolean {
    this.space();
    return this.number() && Number.isFinite(this.value);
  }

  /**
   * After whitespace, an object `{...}`: each member named in `names` is read by `readField` (its
   * index in `names`; the cursor at the value), the others are skipped (checked, not kept).
   * Returns the mask of the names read (bit k for names[k]), or -1 for anything the cursor is not
   * sure of: a key with escapes or non-ASCII, a name given twice (JSON.parse keeps the last one:
   * the parser decides), a value `readField` refuses.
   */
  object(names: readonly Uint8Array[], readField: (field: number) => boolean): number {
    if (!this.take(0x7b)) return -1;
    let seen = 0;
    for (;;) {
      const field = this.key(names);
      if (field === GIVE_UP) return -1;
      if (field === OTHER_KEY) {
        if (!this.skip()) return -1;
      } else {
        if (seen & (1 << field)) return -1;
        seen |= 1 << field;
        if (!readField(field)) return -1;
      }
      const c = this.space();
      this.pos++;
      if (c === 0x7d) return seen;
      if (c !== 0x2c) return -1;
    }
  }

  /**
   * After whitespace, an object key and its colon: the index of the name it is among `names`,
   * OTHER_KEY for a plain key that is none of them, GIVE_UP for anything else.
   */
  private key(names: readonly Uint8Array[]): number {
    const end = this.plainStringEnd();
    if (end < 0) return GIVE_UP;
    const b = this.bytes;
    const start = this.pos + 1;
    const length = end - start;
    this.pos = end + 1;
    if (!this.take(0x3a)) return GIVE_UP;
    search: for (let k = 0; k < names.length; k++) {
      const name = names[k]!;
      if (name.length !== length) continue;
      for (let j = 0; j < length; j++) if (name[j] !== b[start + j]!) continue search;
      return k;
    }
    return OTHER_KEY;
  }

  /**
   * After whitespace, where the string starting there ends (its closing quote), or -1 when there
   * is none or it is not printable ASCII without escapes (JSON.parse decides the others).
   */
  private plainStringEnd(): number {
    if (this.space() !== QUOTE) return -1;
    const b = this.bytes;
    const n = this.end;
    let i = this.pos + 1;
    let c = i < n ? b[i]! : END;
    while (c !== QUOTE) {
      if (c === BACKSLASH || c < 0x20 || c >= 0x7f) return -1;
      c = ++i < n ? b[i]! : END;
    }
    return i;
  }

  /** After whitespace, any JSON value, checked (grammar, UTF-8, finite numbers) and not kept. */
  skip(): boolean {
    this.space();
    try {
      const end = skipJsonValue(this.bytes, this.pos, this.bytes.length);
      if (end < 0) return false;
      this.pos = end;
      return true;
    } catch {
      return false;
    }
  }

  /** After whitespace, a box `[a, b, c, d]` of exactly 4 finite numbers into `out`. */
  box(out: Float64Array): boolean {
    if (!this.take(0x5b)) return false;
    for (let k = 0; k < 4; k++) {
      if (k > 0 && !this.take(0x2c)) return false;
      if (!this.finite()) return false;
      out[k] = this.value;
    }
    return this.take(0x5d);
  }

  /**
   * After whitespace, a string of printable ASCII without escapes (what ids are): its text, or
   * undefined for any other value or string (escapes, control characters, non-ASCII: JSON.parse
   * decides those).
   */
  asciiString(): string | undefined {
    const end = this.plainStringEnd();
    if (end < 0) return undefined;
    const start = this.pos + 1;
    this.pos = end + 1;
    return this.bytes.toString("latin1", start, end);
  }

  /** What the last `numberList` read, from 0 (the rest of the array is stale). */
  list: Float64Array = new Float64Array(256);

  /**
   * After whitespace, `[n, ...]`: any number of finite numbers, into `list` (grown as needed).
   * Returns how many, or -1 for anything else.
   */
  numberList(): number {
    if (!this.take(0x5b)) return -1;
    if (this.space() === 0x5d) {
      this.pos++;
      return 0;
    }
    let count = 0;
    for (;;) {
      if (!this.finite()) return -1;
      if (count === this.list.length) {
        const grown = new Float64Array(2 * count);
        grown.set(this.list);
        this.list = grown;
      }
      this.list[count++] = this.value;
      const c = this.space();
      this.pos++;
      if (c === 0x5d) return count;
      if (c !== 0x2c) return -1;
    }
  }

  /** Lists of plain decimals, most of a predictions file, are read in WebAssembly (box-scanner.ts). */
  private boxScanner: BoxListScanner | undefined;

  /** What the last `boxList` read: 4 numbers per box from 0 (the rest of the array is stale). */
  boxes: Float64Array = new Float64Array(1024);

  /**
   * After whitespace, `[[x1, y1, x2, y2], ...]`: any number of boxes of exactly 4 finite numbers
   * each, into `boxes` (grown as needed). Returns how many boxes, or -1 for anything else.
   *
   * Box lists are most of a predictions file: those of plain decimals are read in WebAssembly
   * (box-scanner.ts), and any other by the loop below, from the list's start (a float32 file's
   * 17-digit numbers: the scanner gives up at the first one). The loop is written out: the
   * commonest numbers (`-12.5`: digits, a fraction, no exponent, within Clinger's fast path) are
   * read in it, and any other is read again from its first byte by `number()`, the one full grammar. (A call per
   * number, or per bracket, made 35 MB of Flickr predictions 40% slower.)
   */
  boxList(): number {
    // (The scanner reads up to the end of the bytes, which is the cursor's end: see at().)
    const scanner = (this.boxScanner ??= new BoxListScanner());
    const fast = this.end === this.bytes.length ? scanner.read(this.bytes, this.pos, this.boxes, (length) => (this.boxes = new Float64Array(length))) : -1;
    if (fast >= 0) {
      this.pos = scanner.next;
      return fast;
    }
    if (!this.take(0x5b)) return -1;
    const b = this.bytes;
    const n = this.end;
    let i = this.pos;
    let c = i < n ? b[i]! : END;
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = ++i < n ? b[i]! : END;
    if (c === 0x5d) {
      this.pos = i + 1;
      return 0;
    }
    let out = this.boxes;
    let count = 0;
    for (;;) {
      if (c !== 0x5b) return -1;
      if (4 * count + 4 > out.length) {
        out = new Float64Array(2 * out.length);
        out.set(this.boxes);
        this.boxes = out;
      }
      c = ++i < n ? b[i]! : END;
      for (let k = 0; k < 4; k++) {
        while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = ++i < n ? b[i]! : END;
        const start = i;
        const negative = c === MINUS;
        if (negative) c = ++i < n ? b[i]! : END;
        let mantissa = 0;
        let exponent = 0;
        if (c === ZERO) c = ++i < n ? b[i]! : END;
        else if (c > ZERO && c <= NINE) {
          do {
            mantissa = mantissa * 10 + (c - ZERO);
            c = ++i < n ? b[i]! : END;
          } while (c >= ZERO && c <= NINE);
        } else return -1;
        if (c === DOT) {
          c = ++i < n ? b[i]! : END;
          if (c < ZERO || c > NINE) return -1;
          do {
            mantissa = mantissa * 10 + (c - ZERO);
            exponent--;
            c = ++i < n ? b[i]! : END;
          } while (c >= ZERO && c <= NINE);
        }
        let value: number;
        if (c !== 0x65 && c !== 0x45 && mantissa < EXACT_BELOW && exponent >= -22) {
          const magnitude = exponent === 0 ? mantissa : mantissa / EXACT_POWERS[-exponent]!;
          value = negative ? -magnitude : magnitude;
        } else if (c !== 0x65 && c !== 0x45) {
          // A plain decimal past the fast path (a float32 result's 16-17 digits) ends here: read
          // from its text, not scanned a second time by number().
          value = this.numberOfText(start, i);
          if (!Number.isFinite(value)) return -1;
        } else {
          this.pos = start;
          if (!this.number() || !Number.isFinite(this.value)) return -1;
          value = this.value;
          i = this.pos;
          c = i < n ? b[i]! : END;
        }
        out[4 * count + k] = value;
        while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = ++i < n ? b[i]! : END;
        if (c !== (k < 3 ? 0x2c : 0x5d)) return -1;
        c = ++i < n ? b[i]! : END;
      }
      count++;
      while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = ++i < n ? b[i]! : END;
      if (c === 0x5d) {
        this.pos = i + 1;
        return count;
      }
      if (c !== 0x2c) return -1;
      c = ++i < n ? b[i]! : END;
      while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = ++i < n ? b[i]! : END;
    }
  }
}
