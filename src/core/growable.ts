/** Append-only typed arrays that double their capacity, so millions of numbers stay unboxed. */
type TypedArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;
type TypedArrayConstructor<T extends TypedArray> = { new (length: number): T };

export class Growable<T extends TypedArray> {
  private buffer: T;
  length = 0;

  constructor(
    private readonly make: TypedArrayConstructor<T>,
    initialCapacity = 1024,
  ) {
    this.buffer = new make(Math.max(1, initialCapacity));
  }

  push(value: number): void {
    if (this.length === this.buffer.length) this.grow(this.length + 1);
    this.buffer[this.length++] = value;
  }

  private grow(minimum: number): void {
    const next = new this.make(Math.max(minimum, this.buffer.length * 2));
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
