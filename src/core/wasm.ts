/**
 * WebAssembly modules of this package (`src/**\/*.wat`, assembled into `dist/` by the build:
 * tools/wasm.ts), compiled when the module that runs them loads. TypeScript declares the
 * WebAssembly API only in its DOM libraries: the part used here is declared below.
 */
import { readFileSync } from "node:fs";

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: object };
}

const api = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/** A compiled module: `url` is its `.wasm` beside the compiled JavaScript (`new URL("./x.wasm", import.meta.url)`). */
export function compileWasm(url: URL): object {
  return new api.Module(readFileSync(url));
}

/** A new instance of a compiled module (its own memory), its exports typed as the caller says. */
export function instantiateWasm<Exports extends object>(module: object): Exports {
  return new api.Instance(module).exports as Exports;
}

/** Grows `memory` to at least `bytes` (in 64 KiB pages); its buffer is then a new one. */
export function ensureWasmMemory(memory: WasmMemory, bytes: number): void {
  const have = memory.buffer.byteLength;
  if (have < bytes) memory.grow(Math.ceil((bytes - have) / 65536));
}
