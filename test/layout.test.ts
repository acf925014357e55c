import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, it } from "node:test";
import { cruise, type ICruiseResult, type IConfiguration } from "dependency-cruiser";
import { repoRoot, tempDir } from "./helpers.js";

/** The project's rules (.dependency-cruiser.cjs): one-way layers, no cycles. */
const config = createRequire(import.meta.url)(join(repoRoot, ".dependency-cruiser.cjs")) as IConfiguration;

async function cruiseTree(root: string, paths: string[]): Promise<ICruiseResult> {
  const previous = process.cwd();
  process.chdir(root);
  try {
    const result = await cruise(paths, { ruleSet: { forbidden: config.forbidden ?? [] }, ...config.options, validate: true, tsConfig: undefined });
    return result.output as ICruiseResult;
  } finally {
    process.chdir(previous);
  }
}

async function violations(root: string, paths: string[]): Promise<string[]> {
  return (await cruiseTree(root, paths)).summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);
}

describe("the source layout (README: Development)", () => {
  it("imports go one way (cli -> workflows -> formats, metrics -> json, compat -> core) with no cycles", async () => {
    const result = await cruiseTree(repoRoot, ["src"]);
    assert.deepEqual(result.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`), []);
    // The imports were resolved (an unresolved tree would pass vacuously), type-only ones too.
    const edges = new Set(result.modules.flatMap((m) => m.dependencies.map((d) => `${m.source} -> ${d.resolved}`)));
    assert.ok(edges.has("src/cli/main.ts -> src/cli/program.ts"));
    assert.ok(edges.has("src/metrics/lvis/category.ts -> src/metrics/lvis/columns.ts"), "type-only imports are seen");
  });

  it("the check fails on a metric that reads a file format, and on a cycle", async () => {
    const root = tempDir();
    const file = (path: string, text: string) => {
      mkdirSync(join(root, path, ".."), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    file("src/formats/lvis/reader.ts", 'export const reader = 1;\n');
    file("src/metrics/ap.ts", 'import { reader } from "../formats/lvis/reader.js";\nexport const ap = reader;\n');
    file("src/core/a.ts", 'import { b } from "./b.js";\nexport const a = () => b;\n');
    file("src/core/b.ts", 'import { a } from "./a.js";\nexport const b = () => a;\n');
    const found = await violations(root, ["src"]);
    assert.ok(found.some((v) => v.startsWith("metrics-are-pure: src/metrics/ap.ts -> src/formats/lvis/reader.ts")), found.join("\n"));
    assert.ok(found.some((v) => v.startsWith("no-cycles: src/core/a.ts")), found.join("\n"));
  });
});
