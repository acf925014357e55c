import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { assertInputError, goldenCases, numericDifferences, readJsonFile, runCli, tempDir } from "./helpers.js";

type Dict = Record<string, { boxes: number[][]; scores: number[] }>;

/**
 * The infer-bench comparison: every produced box pairs with exactly one reference query box of the
 * same expression within 1.5 px per coordinate, its score within 2e-3, and a box may come before
 * another only if its reference score is not lower by more than 0.2% of the larger score.
 */
function dictDifferences(expected: Dict, actual: Dict): string[] {
  const problems: string[] = [];
  const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
  for (const key of keys) {
    const e = expected[key];
    const a = actual[key];
    if (!e || !a) {
      problems.push(`${key}: ${e ? "missing" : "unexpected"}`);
      continue;
    }
    if (a.boxes.length !== e.boxes.length) problems.push(`${key}: ${a.boxes.length} boxes, expected ${e.boxes.length}`);
    const paired = a.boxes.map((box) => e.boxes.flatMap((ref, j) => (ref.every((v, c) => Math.abs(v - box[c]!) <= 1.5) ? [j] : [])));
    paired.forEach((matches, i) => {
      if (matches.length !== 1) problems.push(`${key}: box ${i} pairs with ${matches.length} reference boxes`);
      else if (Math.abs(a.scores[i]! - e.scores[matches[0]!]!) > 2e-3) problems.push(`${key}: box ${i} score ${a.scores[i]} vs ${e.scores[matches[0]!]}`);
    });
    for (let i = 0; i + 1 < paired.length; i++) {
      const [p, q] = [paired[i]![0], paired[i + 1]![0]];
      if (p === undefined || q === undefined) continue;
      const [sp, sq] = [e.scores[p]!, e.scores[q]!];
      if (sp < sq - 0.002 * Math.max(sp, sq)) problems.push(`${key}: box ${i} ranked before a better one`);
    }
  }
  return problems;
}

describe("infer refcoco matches MDETR's PostProcess and evaluator on the golden case", () => {
  const golden = goldenCases("infer-refcoco").find((c) => c.name === "basic_eval")!;
  const run = (extra: string[], out: string, results?: string) =>
    runCli([...golden.argv.map((a) => a.replace("{out}", out).replace("{results}", results ?? join(tempDir(), "r.json"))), ...extra], { cwd: golden.dir });

  it("the predictions and, with --eval, the metrics", async () => {
    const dir = tempDir();
    const out = join(dir, "pred.json");
    const results = join(dir, "results.json");
    const result = await run([], out, results);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(dictDifferences(golden.expected as Dict, readJsonFile(out) as Dict), []);
    const json = readJsonFile(results) as Record<string, unknown> & { meta: { command: string; options: Record<string, unknown>; inputs: Record<string, { sha256: string }> } };
    const { meta, ...metrics } = json;
    assert.deepEqual(numericDifferences(readJsonFile(join(golden.dir, "expected_metrics.json")), metrics), []);
    assert.equal(meta.command, "infer refcoco");
    assert.equal(meta.options["scoring"], "mdetr");
    assert.match(meta.inputs["model"]!.sha256, /^[0-9a-f]{64}$/);
    assert.match(result.stdout, /^Precision@k/);
  });

  it("three shards cover every expression once and evaluate like the whole run", async () => {
    const dir = tempDir();
    const shards = [1, 2, 3].map((k) => join(dir, `shard${k}.json`));
    for (const [k, out] of shards.entries()) {
      const result = await runCli(["infer", "refcoco", "--annotations", "finetune_refcoco_testA.json", "--images", "images", "--model", "model.onnx", "-o", out, "--shard", `${k + 1}/3`], { cwd: golden.dir });
      assert.equal(result.code, 0, result.stderr);
    }
    const union = Object.assign({}, ...shards.map((s) => readJsonFile(s) as Dict)) as Dict;
    assert.deepEqual(dictDifferences(golden.expected as Dict, union), []);
    const counts = shards.map((s) => Object.keys(readJsonFile(s) as Dict).length);
    assert.ok(counts.every((n) => n > 0) && counts.reduce((a, b) => a + b) === Object.keys(golden.expected as Dict).length);
    const evaluated = await runCli(["eval", "refcoco", "--annotations", "finetune_refcoco_testA.json", "--predictions", ...shards, "--json", "-"], { cwd: golden.dir });
    assert.equal(evaluated.code, 0, evaluated.stderr);
    const { meta: _meta, ...metrics } = JSON.parse(evaluated.stdout) as Record<string, unknown>;
    assert.deepEqual(numericDifferences(readJsonFile(join(golden.dir, "expected_metrics.json")), metrics), []);
  });

  for (const bad of ["0/3", "4/3", "1/0", "x", "1-3"]) {
    it(`--shard ${bad} is a usage error`, async () => {
      const result = await run(["--shard", bad], join(tempDir(), "p.json"));
      assertInputError(result, /--shard: expected K\/N with 1 <= K <= N/);
    });
  }

  it("--resume continues an interrupted run from its progress log, and refuses other settings", async () => {
    const dir = tempDir();
    const images = join(dir, "images");
    mkdirSync(images);
    // The last picture (by id) is missing at first: the run stops there, its progress kept.
    const files = readdirSync(join(golden.dir, "images")).sort();
    for (const name of files.slice(0, -1)) copyFileSync(join(golden.dir, "images", name), join(images, name));
    const out = join(dir, "pred.json");
    const args = ["infer", "refcoco", "--annotations", join(golden.dir, "finetune_refcoco_testA.json"), "--images", images, "--model", join(golden.dir, "model.onnx"), "-o", out, "--resume"];
    assert.equal((await runCli(args)).code, 2);
    assert.ok(!existsSync(out) && existsSync(`${out}.progress.jsonl`));
    const kept = readFileSync(`${out}.progress.jsonl`, "utf8").trim().split("\n").length - 1;
    assert.ok(kept > 0, "some expressions were done before the failure");
    const other = await runCli([...args, "--shard", "1/1"]);
    assertInputError(other, /--resume: .*progress\.jsonl was made with other settings: shard null vs "1\/1" \(remove it, or drop --resume to start over\)/);
    copyFileSync(join(golden.dir, "images", files.at(-1)!), join(images, files.at(-1)!));
    const resumed = await runCli(args);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, new RegExp(`--resume: ${kept} expressions already in`));
    assert.deepEqual(dictDifferences(golden.expected as Dict, readJsonFile(out) as Dict), []);
    assert.ok(!existsSync(`${out}.progress.jsonl`), "the log goes once the output is written");
  });

  it("--eval (or --json) with --shard is refused before any work: a shard is not the benchmark", async () => {
    assertInputError(await run(["--shard", "1/2"], join(tempDir(), "p.json")), /--eval scores a whole benchmark, not one shard: run eval refcoco --predictions on all the shards' files/);
  });

  it("without --resume an earlier log is started over, with a warning; a refused --resume leaves the log as it was", async () => {
    const dir = tempDir();
    const out = join(dir, "pred.json");
    const log = `${out}.progress.jsonl`;
    const args = ["infer", "refcoco", "--annotations", "finetune_refcoco_testA.json", "--images", "images", "--model", "model.onnx", "-o", out];
    writeFileSync(log, `${JSON.stringify({ header: { command: "infer refcoco", scoring: "sigmoid" } })}\n${JSON.stringify({ key: "294", value: { boxes: [], scores: [] } })}\n{"key": "torn`);
    const before = readFileSync(log);
    assertInputError(await runCli([...args, "--resume"], { cwd: golden.dir }), /was made with other settings/);
    assert.deepEqual(readFileSync(log), before, "untouched");
    const fresh = await runCli(args, { cwd: golden.dir });
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.match(fresh.stderr, /started over, discarding the 1 expressions an earlier run finished/);
  });

  it("a missing picture fails, naming it, and leaves no output", async () => {
    const dir = tempDir();
    const out = join(dir, "p.json");
    const result = await runCli(["infer", "refcoco", "--annotations", join(golden.dir, "finetune_refcoco_testA.json"), "--images", dir, "--model", join(golden.dir, "model.onnx"), "-o", out]);
    assertInputError(result, /COCO_train2014_\d+\.jpg: cannot read the picture: no such file in --images/);
    assert.ok(!existsSync(out));
  });
});
