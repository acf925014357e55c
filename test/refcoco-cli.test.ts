import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { assertInputError, metricsOf, readJsonFile, repoRoot, runCli, tempDir, writeJson } from "./helpers.js";

/** Two expressions in two datasets; expression 1's target is [10, 10, 50, 50] (xyxy). */
const baseAnnotations: Record<string, unknown>[] = [
  { id: 11, image_id: 1, bbox: [10, 10, 40, 40], category_id: 1, area: 1600, iscrowd: 0, tokens_positive: [[0, 12]] },
  { id: 12, image_id: 2, bbox: [60, 60, 20, 20], category_id: 1, area: 400, iscrowd: 0, tokens_positive: [[0, 5]] },
];
function annotations(overrides: { images?: unknown; annotations?: unknown } = {}) {
  return {
    images: overrides.images ?? [
      { id: 1, file_name: "a.jpg", height: 100, width: 100, caption: "the left dog", dataset_name: "refcoco", tokens_negative: [[0, 12]] },
      { id: 2, file_name: "a.jpg", height: 100, width: 100, caption: "a cat", dataset_name: "refcocog", tokens_negative: [[0, 5]] },
    ],
    annotations: overrides.annotations ?? baseAnnotations,
  };
}

const dictPredictions = {
  "1": { boxes: [[10, 10, 50, 50], [0, 0, 5, 5]], scores: [0.9, 0.1] },
  "2": { boxes: [[0, 0, 5, 5], [60, 60, 80, 80]], scores: [0.8, 0.3] },
};
const listPredictions = [
  { image_id: 2, category_id: 1, bbox: [0, 0, 5, 5], score: 0.8 },
  { image_id: 1, category_id: 1, bbox: [10, 10, 40, 40], score: 0.9 },
  { image_id: 2, category_id: 1, bbox: [60, 60, 20, 20], score: 0.3 },
  { image_id: 1, category_id: 1, bbox: [0, 0, 5, 5], score: 0.1 },
];
const expected = { refcoco: { "P@1": 1, "P@5": 1, "P@10": 1, count: 1 }, refcocog: { "P@1": 0, "P@5": 1, "P@10": 1, count: 1 } };

async function evalRun(predictions: unknown, extra: string[] = [], ann: unknown = annotations()) {
  const dir = tempDir();
  const annFile = writeJson(dir, "ann.json", ann);
  const predFile = writeJson(dir, "pred.json", predictions);
  return { dir, run: await runCli(["eval", "refcoco", "--annotations", annFile, "--predictions", predFile, ...extra]) };
}


describe("mdetr eval refcoco", () => {
  it("reads MDETR dict predictions and prints a table", async () => {
    const { run } = await evalRun(dictPredictions);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /refcoco\s+100\.00\s+100\.00\s+100\.00\s+1/);
    assert.match(run.stdout, /refcocog\s+0\.00\s+100\.00\s+100\.00\s+1/);
  });

  it("reads COCO results lists (interleaved images) with the same numbers, JSON to stdout with --json -", async () => {
    const { run } = await evalRun(listPredictions, ["--json", "-"]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(metricsOf(JSON.parse(run.stdout)), expected);
  });

  it("--json carries meta: version, command, protocol, every setting, and each input's size and SHA-256", async () => {
    const { dir, run } = await evalRun(dictPredictions, ["--json", "-", "--match", "giou", "--k", "5,1"]);
    assert.equal(run.code, 0, run.stderr);
    const { meta } = JSON.parse(run.stdout) as { meta: Record<string, unknown> & { inputs: Record<string, { path: string; bytes: number; sha256: string }> } };
    const version = (readJsonFile(join(repoRoot, "package.json")) as { version: string }).version;
    assert.deepEqual({ ...meta, inputs: undefined }, {
      tool: "mdetr",
      version,
      command: "eval refcoco",
      protocol: "Precision@k, a hit when GIoU >= 0.5 (MDETR's RefExpEvaluator, datasets/refexp.py)",
      options: { iou_type: "bbox", match: "giou", iou_threshold: 0.5, k: [1, 5], allow_missing: false, prediction_format: "mdetr-dict" },
      inputs: undefined,
    });
    for (const [role, name] of [["annotations", "ann.json"], ["predictions", "pred.json"]] as const) {
      const bytes = readFileSync(join(dir, name));
      assert.deepEqual(meta.inputs[role], { path: join(dir, name), bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex"), reader: "split" });
    }
  });

  it("writes --json FILE atomically and leaves no temporary file", async () => {
    const { dir } = await evalRun(dictPredictions);
    const dir2 = tempDir();
    const target = join(dir2, "results.json");
    const second = await runCli(["eval", "refcoco", "--annotations", join(dir, "ann.json"), "--predictions", join(dir, "pred.json"), "--json", target]);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(metricsOf(readJsonFile(target)), expected);
    assert.deepEqual(readdirSync(dir2), ["results.json"]);
  });

  it("buckets annotations without dataset_name under the file's name", async () => {
    const plain = annotations();
    for (const image of plain.images as Record<string, unknown>[]) delete image["dataset_name"];
    const { run } = await evalRun(dictPredictions, ["--json", "-"], plain);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(metricsOf(JSON.parse(run.stdout)), { ann: { "P@1": 0.5, "P@5": 1, "P@10": 1, count: 2 } });
  });

  it("fails on expressions without predictions, naming how many and which", async () => {
    assertInputError((await evalRun({ "1": dictPredictions["1"] })).run, /pred\.json: no predictions for 1 of 2 expressions \(image ids 2\); pass --allow-missing/);
    assertInputError((await evalRun([])).run, /no predictions for 2 of 2 expressions \(image ids 1, 2\)/);
  });

  it("counts them as misses with --allow-missing and says so", async () => {
    const { run } = await evalRun({ "1": dictPredictions["1"] }, ["--allow-missing", "--json", "-"]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout).refcocog, { "P@1": 0, "P@5": 0, "P@10": 0, count: 1 });
    assert.match(run.stderr, /1 expressions have no predictions and count as misses/);
  });

  it("warns about predictions for unknown image ids and ignores them", async () => {
    const { run } = await evalRun({ ...dictPredictions, "99": { boxes: [[0, 0, 1, 1]], scores: [1] } }, ["--json", "-"]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(metricsOf(JSON.parse(run.stdout)), expected);
    assert.match(run.stderr, /warning: .*pred\.json: 1 predictions name image ids not in .*ann\.json \(99\); ignored/);
  });

  it("checks x2 >= x1 in float32, as the reference's assertion does", async () => {
    // 1.00000001 and 1 are the same float32: a zero-width box, not an inverted one.
    const { run } = await evalRun({ ...dictPredictions, "2": { boxes: [[1.00000001, 0, 1, 1]], scores: [0.5] } }, ["--json", "-"]);
    assert.equal(run.code, 0, run.stderr);
  });

  it("counts an empty box list as a miss, not as missing", async () => {
    const { run } = await evalRun({ ...dictPredictions, "2": { boxes: [], scores: [] } }, ["--json", "-"]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout).refcocog, { "P@1": 0, "P@5": 0, "P@10": 0, count: 1 });
  });

  describe("rejects bad input with exit code 2 and the JSON path", () => {
    const cases: [string, unknown, RegExp, unknown?][] = [
      ["NaN score (not JSON)", '{"1": {"boxes": [[1,2,3,4]], "scores": [NaN]}}', /pred\.json: invalid JSON at line 1, column \d+/],
      ["1e400 box coordinate", '{"1": {"boxes": [[1,2,3,1e400]], "scores": [0.5]}}', /pred\.json: \["1"\]\.boxes\[0\]: \[3\]: expected a finite number, got a number out of range/],
      ["a box of 3 numbers", [{ image_id: 1, bbox: [1, 2, 3], score: 0.5 }], /pred\.json: \[0\]\.bbox: expected 4 numbers, got an array of 3/],
      ["a string score", [{ image_id: 1, bbox: [1, 2, 3, 4], score: "0.5" }], /pred\.json: \[0\]\.score: expected a finite number, got the string "0\.5"/],
      ["a null coordinate", [{ image_id: 1, bbox: [1, null, 3, 4], score: 0.5 }], /pred\.json: \[0\]\.bbox: \[1\]: expected a finite number, got null/],
      ["a negative width", [{ image_id: 1, bbox: [1, 2, -3, 4], score: 0.5 }], /\[0\]\.bbox: width and height must be >= 0/],
      ["x2 < x1 in MDETR boxes", { "1": { boxes: [[5, 2, 3, 4]], scores: [0.5] } }, /\["1"\]\.boxes\[0\]: expected \[x1, y1, x2, y2\] with x2 >= x1/],
      ["a key given twice", '{"1": {"boxes": [], "scores": []}, "1": {"boxes": [], "scores": []}}', /pred\.json: \["1"\]: a key given twice in one object/],
      ["scores and boxes of different lengths", { "1": { boxes: [[1, 2, 3, 4]], scores: [] } }, /\["1"\]\.scores: expected 1 scores \(one per box\), got 0/],
      ["a scalar file", "42", /pred\.json: expected a list of COCO results or an object of MDETR predictions/],
      ["an annotation bbox with 5 numbers", dictPredictions, /ann\.json: annotations\[1\]\.bbox: expected 4 numbers, got an array of 5/,
        annotations({ annotations: [baseAnnotations[0], { ...baseAnnotations[1], bbox: [1, 2, 3, 4, 5] }] })],
      ["an annotation whose image id does not resolve", dictPredictions, /ann\.json: annotations\[1\]\.image_id: no image with id 7/,
        annotations({ annotations: [baseAnnotations[0], { ...baseAnnotations[1], image_id: 7 }] })],
      ["an image without annotation", dictPredictions, /ann\.json: images\[1\]: expected exactly one annotation for image id 2, found 0/,
        annotations({ annotations: [baseAnnotations[0]] })],
      ["images that is not an array", dictPredictions, /ann\.json: images: expected an array, got an object/, { images: {}, annotations: [] }],
    ];
    for (const [name, predictions, pattern, ann] of cases) {
      it(name, async () => assertInputError((await evalRun(predictions, [], ann ?? annotations())).run, pattern));
    }

    it("invalid UTF-8 in the annotations", async () => {
      const { dir } = await evalRun(dictPredictions);
      // {"\xc3(":1}: 0xc3 starts a two-byte sequence that "(" does not continue.
      const bad = writeJson(dir, "bad.json", Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]));
      assertInputError(await runCli(["eval", "refcoco", "--annotations", bad, "--predictions", join(dir, "pred.json")]), /bad\.json: not valid UTF-8/);
    });
  });

  describe("usage errors exit with code 2", () => {
    for (const [name, extra, pattern] of [
      ["--k 0", ["--k", "0"], /--k: expected positive integers/],
      ["--match foo", ["--match", "foo"], /--match: expected one of iou, giou/],
      ["--iou-threshold 2", ["--iou-threshold", "2"], /--iou-threshold: expected a number from 0 to 1/],
      ["an unknown option", ["--frobnicate"], /unknown option '--frobnicate'/],
    ] as const) {
      it(name, async () => {
        const { run } = await evalRun(dictPredictions, [...extra]);
        assert.equal(run.code, 2, run.stderr);
        assert.match(run.stderr, pattern);
      });
    }

    it("an output folder that does not exist, before any work", async () => {
      const { run } = await evalRun(dictPredictions, ["--json", "/nonexistent-folder/out.json"]);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /--json \/nonexistent-folder\/out\.json: cannot write into \/nonexistent-folder \(ENOENT\)/);
      assert.equal(run.stdout, "");
    });

    it("a folder as input or as --json target", async () => {
      const { dir } = await evalRun(dictPredictions);
      const folderInput = await runCli(["eval", "refcoco", "--annotations", dir, "--predictions", join(dir, "pred.json")]);
      assert.equal(folderInput.code, 2);
      assert.match(folderInput.stderr, /: not a file/);
      const folderOutput = await runCli(["eval", "refcoco", "--annotations", join(dir, "ann.json"), "--predictions", join(dir, "pred.json"), "--json", dir]);
      assert.equal(folderOutput.code, 2);
      assert.match(folderOutput.stderr, /--json .*: is a folder; give a file name/);
    });

    it("a missing predictions file", async () => {
      const run = await runCli(["eval", "refcoco", "--annotations", "nope.json", "--predictions", "nope.json"]);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /nope\.json: cannot read: ENOENT/);
    });

    it("shows the stack with --verbose", async () => {
      const run = await runCli(["--verbose", "eval", "refcoco", "--annotations", "nope.json", "--predictions", "nope.json"]);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /\n\s+at /);
    });
  });

  it("--help explains the two match modes and shows examples", async () => {
    const run = await runCli(["eval", "refcoco", "--help"]);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /--match giou\s+generalized IoU/);
    assert.match(run.stdout, /Examples:\n\s+\$ mdetr eval refcoco/);
  });

  it("leaves no output file when the run fails", async () => {
    const dir = tempDir();
    const target = join(dir, "out.json");
    const annFile = writeJson(dir, "ann.json", annotations());
    const predFile = writeJson(dir, "pred.json", "[");
    const run = await runCli(["eval", "refcoco", "--annotations", annFile, "--predictions", predFile, "--json", target]);
    assert.equal(run.code, 2);
    assert.equal(existsSync(target), false);
  });
});

