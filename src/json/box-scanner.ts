/**
 * `ByteCursor.boxList`'s common case (box-list.wat says which): the bytes being read are copied
 * once into the module's memory, then each list is read there. A list it does not read is left
 * to the cursor's own loop, which reads it as before, so what is accepted, refused and returned
 * does not change.
 */
import { compileWasm, ensureWasmMemory, instantiateWasm, type WasmMemory } from "../core/wasm.js";

const SCANNER = compileWasm(new URL("./box-list.wasm", import.meta.url));

interface Exports {
  memory: WasmMemory;
  next: { value: number };
  boxList(at: number, out: number, room: number): number;
}

/** Where the bytes go: after the 23 powers of ten (box-list.wat). */
const BYTES_AT = 256;
/** 10^0 .. 10^22: the powers of ten a double holds exactly (here and in ByteCursor's own loops). */
export const EXACT_POWERS: readonly number[] = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

export class BoxListScanner {
  readonly #module = instantiateWasm<Exports>(SCANNER);
  /** The bytes in memory now (by identity) and where the boxes go after them. */
  #bytes: Uint8Array | undefined;
  #out = 0;
  /** Boxes the output area holds. */
  #room = 1024;
  #next = 0;

  /** Where the last list read ends, in the bytes. */
  get next(): number {
    return this.#next;
  }

  constructor() {
    new Float64Array(this.#module.memory.buffer).set(EXACT_POWERS);
  }

  /**
   * The box list at `pos` of `bytes` (after whitespace): how many boxes, their numbers copied
   * into `boxes` (or, when it is too short, into the array `grow` returns), or -1 for a list the
   * caller must read itself. `bytes` are copied when they are not the last ones (by identity).
   */
  read(bytes: Uint8Array, pos: number, boxes: Float64Array, grow: (length: number) => Float64Array): number {
    if (bytes !== this.#bytes) this.#load(bytes);
    const memory = this.#module.memory;
    for (;;) {
      const count = this.#module.boxList(BYTES_AT + pos, this.#out, this.#room);
      if (count === -2) {
        this.#room *= 2;
        ensureWasmMemory(memory, this.#out + 32 * this.#room);
        continue;
      }
      if (count < 0) return -1;
      this.#next = this.#module.next.value - BYTES_AT;
      const into = boxes.length >= 4 * count ? boxes : grow(4 * count);
      into.set(new Float64Array(memory.buffer, this.#out, 4 * count));
      return count;
    }
  }

  #load(bytes: Uint8Array): void {
    // The boxes after the bytes and their 0 byte, 8-byte aligned.
    this.#out = (BYTES_AT + bytes.length + 1 + 7) & ~7;
    const memory = this.#module.memory;
    ensureWasmMemory(memory, this.#out + 32 * this.#room);
    const view = new Uint8Array(memory.buffer);
    view.set(bytes, BYTES_AT);
    view[BYTES_AT + bytes.length] = 0;
    this.#bytes = bytes;
  }
}
