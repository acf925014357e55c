import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { assertInputError, goldenCases, numericDifferences, readJsonFile, runCli, tempDir, writeJson } from "./helpers.js";

interface Detection {
  image_id: number;
  category_id: number;
  bbox: number[];
  score: number;
}

/** Each detection pairs with exactly one reference of its picture and category (1.5 px, 2e-3), none twice. */
function detectionDifferences(expected: Detection[], actual: Detection[]): string[] {
  const problems: string[] = [];
  if (expected.length !== actual.length) problems.push(`${actual.length} detections, expected ${expected.length}`);
  const used = new Set<number>();
  actual.forEach((d, i) => {
    const matches = expected.flatMap((e, j) => (e.image_id === d.image_id && e.category_id === d.category_id && e.bbox.every((v, c) => Math.abs(v - d.bbox[c]!) <= 1.5) ? [j] : []));
    if (matches.length !== 1) return problems.push(`[${i}]: pairs with ${matches.length} references`);
    if (used.has(matches[0]!)) problems.push(`[${i}]: a reference paired twice`);
    used.add(matches[0]!);
    if (Math.abs(expected[matches[0]!]!.score - d.score) > 2e-3) problems.push(`[${i}]: score ${d.score} vs ${expected[matches[0]!]!.score}`);
  });
  return problems;
}

describe("infer lvis matches MDETR's eval_lvis.py prompts, PostProcess and fixed AP on the golden case", () => {
  const golden = goldenCases("infer-lvis").find((c) => c.name === "per_category_eval")!;
  const base = ["infer", "lvis", "--annotations", "lvis_v1_minival.json", "--images", "images", "--model", "model.onnx"];

  // One full run, shared by the tests that compare with it (each run costs seconds).
  const dir = tempDir();
  const out = join(dir, "dets.json");
  const results = join(dir, "results.json");
  let run: Awaited<ReturnType<typeof runCli>>;
  before(async () => {
    run = await runCli(golden.argv.map((a) => a.replace("{out}", out).replace("{results}", results)), { cwd: golden.dir });
  });

  it("the detections, and with --eval the metrics", () => {
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(detectionDifferences(golden.expected as Detection[], readJsonFile(out) as Detection[]), []);
    const { meta, ...metrics } = readJsonFile(results) as Record<string, unknown> & { meta: { command: string } };
    assert.deepEqual(numericDifferences(readJsonFile(join(golden.dir, "expected_metrics.json")), metrics), []);
    assert.equal(meta.command, "infer lvis");
  });

  it("small caps keep only what the cuts need, and the kept file scores like the full one in both protocols at those caps", async () => {
    const full = out;
    const small = join(dir, "small.json");
    const smallRun = await runCli([...base, "-o", small, "--max-dets-per-image", "7", "--topk-per-category", "3"], { cwd: golden.dir });
    assert.equal(smallRun.code, 0, smallRun.stderr);
    const kept = readJsonFile(small) as Detection[];
    assert.ok(kept.length < (readJsonFile(full) as Detection[]).length);
    for (const ap of [["--ap", "standard", "--max-dets", "7"], ["--ap", "fixed", "--dets-per-category", "3"]]) {
      const score = async (file: string) => JSON.parse((await runCli(["eval", "lvis", "--annotations", "lvis_v1_minival.json", "--predictions", file, ...ap, "--json", "-"], { cwd: golden.dir })).stdout) as Record<string, unknown>;
      const [a, b] = [await score(full), await score(small)];
      delete a["meta"];
      delete b["meta"];
      assert.deepEqual(b, a, ap.join(" "));
    }
  });

  it("three shards evaluate like the whole run", async () => {
    const shards = [1, 2, 3].map((k) => join(dir, `s${k}.json`));
    for (const [k, out] of shards.entries()) assert.equal((await runCli([...base, "-o", out, "--shard", `${k + 1}/3`], { cwd: golden.dir })).code, 0);
    const run = await runCli(["eval", "lvis", "--annotations", "lvis_v1_minival.json", "--predictions", ...shards, "--json", "-"], { cwd: golden.dir });
    assert.equal(run.code, 0, run.stderr);
    const { meta: _meta, ...metrics } = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.deepEqual(numericDifferences(readJsonFile(join(golden.dir, "expected_metrics.json")), metrics), []);
  });

  it("chunked prompts run (GLIP's names joined by '. ', mean over tokens), and a chunk too long for the model is refused", async () => {
    const chunked = join(dir, "chunked.json");
    const chunkedRun = await runCli([...base, "-o", chunked, "--prompts", "chunked", "--chunk-size", "4"], { cwd: golden.dir });
    assert.equal(chunkedRun.code, 0, chunkedRun.stderr);
    const dets = readJsonFile(chunked) as Detection[];
    assert.ok(dets.length > 0 && dets.every((d) => d.score >= 0 && d.score <= 1));
    // Long names: all 30 in one chunk need more token positions than the model has.
    const annotations = readJsonFile(join(golden.dir, "lvis_v1_minival.json")) as { categories: { name: string }[] };
    for (const category of annotations.categories) category.name = `${category.name}_${"long_".repeat(8)}`;
    const long = writeJson(dir, "long.json", annotations);
    const refused = await runCli(["infer", "lvis", "--annotations", long, "--images", "images", "--model", "model.onnx", "-o", join(dir, "x.json"), "--prompts", "chunked", "--chunk-size", "1000"], { cwd: golden.dir });
    assertInputError(refused, /the chunk of categories 1-30 is \d+ tokens long; this model takes at most \d+ \(a smaller --chunk-size fits\)/);
  });
});
