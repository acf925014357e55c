import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { assertInputError, goldenCases, metricsOf, numericDifferences, readJsonFile, runCli, tempDir, writeJson } from "./helpers.js";

/**
 * Predictions in several files (the shards of one run, e.g. `infer --shard K/N` on many machines)
 * evaluate like the one file they were cut from. Each golden case's predictions are cut into three
 * contiguous shards by item (image, expression or sentence), keeping the file's order.
 */
const PREDICTION_FILES: Record<string, string> = { lvis: "dets.json", refcoco: "pred.json", flickr30k: "pred.json" };

/** The item a prediction entry belongs to (list entries), for cutting between items only. */
const itemOf = (tool: string, entry: Record<string, unknown>) => (tool === "flickr30k" ? `${String(entry["image_id"])}_${String(entry["sentence_id"])}` : String(entry["image_id"]));

function cutIntoShards(tool: string, predictions: unknown, shards: number): unknown[] {
  if (!Array.isArray(predictions)) {
    // MDETR's dict: one key per expression.
    const keys = Object.keys(predictions as object);
    const size = Math.ceil(keys.length / shards);
    return Array.from({ length: shards }, (_, s) => Object.fromEntries(keys.slice(s * size, (s + 1) * size).map((k) => [k, (predictions as Record<string, unknown>)[k]])));
  }
  const groups: unknown[][] = [];
  let last: string | undefined;
  for (const entry of predictions as Record<string, unknown>[]) {
    const item = itemOf(tool, entry);
    if (item !== last) groups.push([]);
    groups.at(-1)!.push(entry);
    last = item;
  }
  const size = Math.ceil(groups.length / shards);
  return Array.from({ length: shards }, (_, s) => groups.slice(s * size, (s + 1) * size).flat());
}

async function runWithShards(golden: { dir: string; argv: string[] }, tool: string, files: string[], out: string) {
  const argv: string[] = [];
  for (let i = 0; i < golden.argv.length; i++) {
    const arg = golden.argv[i]!;
    if (arg === "--predictions") {
      argv.push(arg, ...files);
      i++;
    } else argv.push(arg.replace("{out}", out));
  }
  return runCli(argv, { cwd: golden.dir });
}

for (const tool of ["lvis", "refcoco", "flickr30k"]) {
  describe(`eval ${tool} on shards`, () => {
    for (const golden of goldenCases(tool)) {
      const predictions = readJsonFile(join(golden.dir, PREDICTION_FILES[tool]!));
      const shardFiles = (dir: string) => cutIntoShards(tool, predictions, 3).map((shard, s) => writeJson(dir, `shard${s + 1}.json`, shard));

      it(`${golden.name}: three shards give the numbers of the whole file`, async () => {
        const dir = tempDir();
        const out = join(dir, "out.json");
        const run = await runWithShards(golden, tool, shardFiles(dir), out);
        assert.equal(run.code, 0, run.stderr);
        const json = readJsonFile(out) as { meta: { inputs: { predictions: unknown } } };
        assert.deepEqual(numericDifferences(golden.expected, metricsOf(json)), []);
        assert.equal((json.meta.inputs.predictions as unknown[]).length, 3, "meta lists every shard, in order");
      });

      it(`${golden.name}: the shards in any order give the same numbers (a shell glob sorts shard10 before shard2)`, async () => {
        const dir = tempDir();
        const out = join(dir, "out.json");
        const run = await runWithShards(golden, tool, shardFiles(dir).reverse(), out);
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(numericDifferences(golden.expected, metricsOf(readJsonFile(out))), []);
      });

      it(`${golden.name}: a shard given twice names both files`, async () => {
        const dir = tempDir();
        const [first, second] = shardFiles(dir);
        const copy = writeJson(dir, "copy.json", readJsonFile(second!));
        assertInputError(await runWithShards(golden, tool, [first!, second!, copy], join(dir, "out.json")), /copy\.json: .* is also in .*shard2\.json: each one may be in one predictions file only/);
      });
    }
  });
}

describe("shards: what is missing from all of them", () => {
  it("the same file given twice is a usage error", async () => {
    const golden = goldenCases("lvis").find((c) => c.name === "synth_fixed")!;
    assertInputError(await runWithShards(golden, "lvis", ["dets.json", "dets.json"], join(tempDir(), "out.json")), /--predictions: dets\.json is given twice/);
  });

  it("refcoco: a missing shard is the usual missing-predictions error, naming the files", async () => {
    const golden = goldenCases("refcoco").find((c) => c.name === "list_giou")!;
    const dir = tempDir();
    const [first, , third] = cutIntoShards("refcoco", readJsonFile(join(golden.dir, "pred.json")), 3).map((shard, s) => writeJson(dir, `shard${s + 1}.json`, shard));
    assertInputError(await runWithShards(golden, "refcoco", [first!, third!], join(dir, "out.json")), /shard1\.json \(and 1 more predictions file\): no predictions for \d+ of \d+ expressions/);
  });

  it("flickr30k: a missing shard is the usual missing-predictions error", async () => {
    const golden = goldenCases("flickr30k").find((c) => c.name === "test_separate")!;
    const dir = tempDir();
    const [first, second] = cutIntoShards("flickr30k", readJsonFile(join(golden.dir, "pred.json")), 3).map((shard, s) => writeJson(dir, `shard${s + 1}.json`, shard));
    assertInputError(await runWithShards(golden, "flickr30k", [first!, second!], join(dir, "out.json")), /no predictions for \d+ of \d+ evaluated sentences/);
  });
});
