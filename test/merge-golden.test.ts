import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { enginesOf, GOLDEN_READINGS, goldenCases, readingEnv, readingName, readJsonFile, runCli, tempDir } from "./helpers.js";

interface MixedDataset {
  images: Record<string, unknown>[];
  annotations: Record<string, unknown>[];
}

/**
 * The comparison test/fixtures/golden/README.md asks for: same images in the same order with the
 * same fields, and per image the same annotations in the same order; ids may differ.
 */
function structuralDifferences(expected: MixedDataset, actual: MixedDataset): string[] {
  const byImage = (d: MixedDataset) => {
    const map = new Map<unknown, Record<string, unknown>[]>();
    for (const a of d.annotations) map.set(a["image_id"], [...(map.get(a["image_id"]) ?? []), a]);
    return map;
  };
  const problems: string[] = [];
  if (expected.images.length !== actual.images.length) problems.push(`images: ${expected.images.length} expected, got ${actual.images.length}`);
  const expectedAnnotations = byImage(expected);
  const actualAnnotations = byImage(actual);
  expected.images.forEach((e, k) => {
    const a = actual.images[k];
    if (!a) return;
    for (const field of ["caption", "tokens_negative", "data_source", "dataset_name", "file_name", "height", "width"]) {
      if (JSON.stringify(e[field]) !== JSON.stringify(a[field])) problems.push(`images[${k}].${field}: ${JSON.stringify(e[field])} vs ${JSON.stringify(a[field])}`);
    }
    if (String(e["original_id"]) !== String(a["original_id"])) problems.push(`images[${k}].original_id`);
    const ea = expectedAnnotations.get(e["id"]) ?? [];
    const aa = actualAnnotations.get(a["id"]) ?? [];
    if (ea.length !== aa.length) problems.push(`images[${k}]: ${ea.length} annotations expected, got ${aa.length}`);
    ea.forEach((x, j) => {
      for (const field of ["bbox", "area", "tokens_positive", "iscrowd", "category_id"]) {
        if (JSON.stringify(x[field]) !== JSON.stringify(aa[j]?.[field])) problems.push(`images[${k}] annotation ${j}.${field}`);
      }
    });
  });
  return problems;
}

describe("merge-annotations matches MDETR's script on the golden cases", () => {
  const cases = goldenCases("merge");
  for (const golden of cases) {
    for (const reading of GOLDEN_READINGS) {
      it(`${golden.name} (${readingName(reading)})`, async () => {
        const dir = tempDir();
        const out = join(dir, "mixed.json");
        const stats = join(dir, "stats.json");
        const argv = [...golden.argv.map((a) => a.replace("{out}", out)), "--json", stats];
        const run = await runCli(argv, { cwd: golden.dir, env: readingEnv(reading) });
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(structuralDifferences(golden.expected as MixedDataset, readJsonFile(out) as MixedDataset), []);
        assert.deepEqual(new Set(enginesOf(readJsonFile(stats))), new Set([reading.engine]));
      });
    }
  }

  it("the comparison notices the other mode's output", async () => {
    const compat = cases.find((c) => c.name === "two_files_compat")!;
    const out = join(tempDir(), "mixed.json");
    const run = await runCli(["merge-annotations", "in1.json", "in2.json", "-o", out], { cwd: compat.dir });
    assert.equal(run.code, 0, run.stderr);
    assert.notDeepEqual(structuralDifferences(compat.expected as MixedDataset, readJsonFile(out) as MixedDataset), []);
  });
});
