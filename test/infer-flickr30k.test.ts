import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { phraseSpan } from "../src/formats/flickr30k/sentences.js";
import { goldenCases, numericDifferences, readJsonFile, runCli, tempDir } from "./helpers.js";

type Entry = { image_id: string | number; sentence_id: number; boxes: number[][][] };

/** Same sentences; per phrase the same boxes in the same ranked order within 1.5 px (the golden case has no near ties). */
function entryDifferences(expected: Entry[], actual: Entry[]): string[] {
  const key = (e: Entry) => `${String(e.image_id)}_${e.sentence_id}`;
  const byKey = new Map(actual.map((e) => [key(e), e]));
  const problems: string[] = [];
  if (expected.length !== actual.length) problems.push(`${actual.length} entries, expected ${expected.length}`);
  for (const e of expected) {
    const a = byKey.get(key(e));
    if (!a) {
      problems.push(`${key(e)}: missing`);
      continue;
    }
    if (a.boxes.length !== e.boxes.length) problems.push(`${key(e)}: ${a.boxes.length} phrases, expected ${e.boxes.length}`);
    e.boxes.forEach((ranked, p) =>
      ranked.forEach((box, r) => {
        if (!box.every((v, c) => Math.abs(v - a.boxes[p]![r]![c]!) <= 1.5)) problems.push(`${key(e)}: phrase ${p}, rank ${r}`);
      }),
    );
  }
  return problems;
}

describe("infer flickr30k matches MDETR's flickr_combined captions, PostProcessFlickr and evaluator on the golden case", () => {
  const golden = goldenCases("infer-flickr30k").find((c) => c.name === "test_eval")!;

  it("the predictions and, with --eval, the recall", async () => {
    const dir = tempDir();
    const out = join(dir, "pred.json");
    const results = join(dir, "results.json");
    const run = await runCli(golden.argv.map((a) => a.replace("{out}", out).replace("{results}", results)), { cwd: golden.dir });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(entryDifferences(golden.expected as Entry[], readJsonFile(out) as Entry[]), []);
    const { meta: _meta, ...metrics } = readJsonFile(results) as Record<string, unknown>;
    assert.deepEqual(numericDifferences(readJsonFile(join(golden.dir, "expected_metrics.json")), metrics), []);
    assert.doesNotMatch(run.stderr, /warning/, "the empty entry of a sentence without a scored phrase is no warning");
  });

  it("two shards evaluate like the whole run", async () => {
    const dir = tempDir();
    const shards = [1, 2].map((k) => join(dir, `s${k}.json`));
    const base = golden.argv.filter((a, i, all) => !["--eval", "--json", "{results}"].includes(a) && all[i - 1] !== "--json");
    for (const [k, out] of shards.entries()) {
      const run = await runCli([...base.map((a) => a.replace("{out}", out)), "--shard", `${k + 1}/2`], { cwd: golden.dir });
      assert.equal(run.code, 0, run.stderr);
    }
    const run = await runCli(["eval", "flickr30k", "--flickr-dir", "flickr", "--split", "test", "--predictions", ...shards, "--json", "-"], { cwd: golden.dir });
    assert.equal(run.code, 0, run.stderr);
    const { meta: _meta, ...metrics } = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.deepEqual(numericDifferences(readJsonFile(join(golden.dir, "expected_metrics.json")), metrics), []);
  });

  it("--resume continues an interrupted run", async () => {
    const dir = tempDir();
    const images = join(dir, "images");
    mkdirSync(images);
    const files = readdirSync(join(golden.dir, "images")).sort();
    // The split's last picture is missing at first: the sentences before it are done and logged.
    const last = readFileSync(join(golden.dir, "flickr", "test.txt"), "utf8").trim().split("\n").at(-1)!.trim();
    for (const name of files.filter((f) => f !== `${last}.jpg`)) copyFileSync(join(golden.dir, "images", name), join(images, name));
    const out = join(dir, "pred.json");
    const args = ["infer", "flickr30k", "--flickr-dir", join(golden.dir, "flickr"), "--split", "test", "--images", images, "--model", join(golden.dir, "model.onnx"), "-o", out, "--resume"];
    assert.equal((await runCli(args)).code, 2);
    assert.ok(existsSync(`${out}.progress.jsonl`) && !existsSync(out));
    copyFileSync(join(golden.dir, "images", `${last}.jpg`), join(images, `${last}.jpg`));
    const resumed = await runCli(args);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /--resume: \d+ sentences already in/);
    assert.deepEqual(entryDifferences(golden.expected as Entry[], readJsonFile(out) as Entry[]), []);
    assert.ok(!existsSync(`${out}.progress.jsonl`));
  });

  it("phrase spans come from the word lengths, not a search of the caption", () => {
    const caption = "a doghouse next to a dog";
    assert.deepEqual(phraseSpan(caption, { firstWordIndex: 4, phrase: "a dog", entityId: "1", types: [] }), [19, 24]);
    assert.deepEqual(phraseSpan("two  spaces", { firstWordIndex: 1, phrase: "spaces", entityId: "1", types: [] }), undefined, "a caption whose words do not join by one space");
  });
});
