/**
 * `node dist/tools/wasm.js` (part of `npm run build`): assembles each WebAssembly text file under
 * src/ (`*.wat`) into its binary next to the compiled JavaScript (`dist/src/**\/*.wasm`), where
 * the module that runs it reads it. The text is the source; no binary is committed. wabt (the
 * WebAssembly Binary Toolkit's own parser, built for JavaScript) assembles it, with the SIMD
 * feature on; it validates the module, so a mistake in the text fails the build.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import wabt from "wabt";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

const toolkit = await wabt();
for (const file of readdirSync(join(root, "src"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".wat")).sort()) {
  const source = join(root, "src", file);
  const name = relative(root, source);
  const module = toolkit.parseWat(name, readFileSync(source, "utf8"), { simd: true });
  try {
    module.validate();
    const target = join(root, "dist", name.replace(/\.wat$/, ".wasm"));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}
