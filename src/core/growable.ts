/** Append-only typed arrays that double their capacity, so millions of numbers stay unboxed. */
type TypedArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array;
type TypedArrayConstructor<T extends TypedArray> = { new (length: number): T; new (buffer: ArrayBufferLike): T; readonly BYTES_PER_ELEMENT: number };

export class Growable<T extends TypedArray> {
  private buffer: T;
  length = 0;

  /**
   * `shared`: in a SharedArrayBuffer, so that worker threads given the view read the same memory
   * instead of a copy.
   */
  constructor(
    private readonly make: TypedArrayConstructor<T>,
    initialCapacity = 1024,
    private readonly shared = false,
  ) {
    this.buffer = this.allocate(Math.max(1, initialCapacity));
  }

  private allocate(length: number): T {
    return this.shared ? new this.make(new SharedArrayBuffer(length * this.make.BYTES_PER_ELEMENT)) : new this.make(length);
  }

  push(value: number): void {
    if (this.length === this.buffer.length) this.grow(this.length + 1);
    this.buffer[this.length++] = value;
  }

  /** Appends all of `values`. */
  append(values: T): void {
    if (this.length + values.length > this.buffer.length) this.grow(this.length + values.length);
    this.buffer.set(values as never, this.length);
    this.length += values.length;
  }

  /** Room for `capacity` values in all, in one allocation (no chain of doublings left to collect). */
  reserve(capacity: number): void {
    if (capacity > this.buffer.length) this.grow(capacity, true);
  }

  private grow(minimum: number, exact = false): void {
    const next = this.allocate(exact ? minimum : Math.max(minimum, this.buffer.length * 2));
    next.set(this.buffer as never);
    this.buffer = next;
  }

  /** The filled part, as a view (no copy). */
  view(): T {
    return this.buffer.subarray(0, this.length) as T;
  }
}

/** The arrays one after the other in one new array (the first itself when it is the only one). */
export function concatTyped<T extends TypedArray>(make: TypedArrayConstructor<T>, parts: readonly T[]): T {
  if (parts.length === 1) return parts[0]!;
  const out = new make(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p as never, at);
    at += p.length;
  }
  return out;
}

/**
 * `array` when it holds at least `length` values, else a new zeroed one with room to spare (twice
 * the old length when that is more): working memory that is reused and grown as needed.
 */
export function atLeast<T extends TypedArray>(array: T, length: number, make: TypedArrayConstructor<T>): T {
  return array.length >= length ? array : new make(Math.max(length, 2 * array.length));
}
