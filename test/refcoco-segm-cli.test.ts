import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { assertInputError, JSON_ENGINES, metricsOf, readingEnv, runCli, tempDir, writeJson } from "./helpers.js";
import { rle } from "./support/masks.js";

// Images are 3 high and 4 wide. Expression 1 (refcoco): target the top-left 2 x 2; expression 2
// (refcocog): target the right column.
const TARGET_1 = ["1100", "1100", "0000"];
const TARGET_2 = ["0001", "0001", "0001"];
const image = (id: number, dataset?: string) => ({ id, file_name: "a.jpg", height: 3, width: 4, caption: "x", ...(dataset ? { dataset_name: dataset } : {}) });

function annotations(overrides: { images?: unknown[]; annotations?: unknown[] } = {}) {
  return {
    images: overrides.images ?? [image(1, "refcoco"), image(2, "refcocog")],
    annotations: overrides.annotations ?? [
      { id: 11, image_id: 1, original_id: 901, segmentation: rle(TARGET_1) },
      { id: 12, image_id: 2, original_id: 902, segmentation: rle(TARGET_2) },
    ],
  };
}

/** Expression 1: the top two rows (I = 4, U = 8: IoU 0.5); expression 2 exact (IoU 1). */
const predictions = [
  { image_id: 1, segmentation: rle(["1111", "1111", "0000"]), score: 0.9 },
  { image_id: 2, segmentation: rle(TARGET_2), score: 0.8 },
];
const expected = {
  refcoco: { mIoU: 0.5, oIoU: 0.5, "prec@0.5": 1, "prec@0.6": 0, "prec@0.7": 0, "prec@0.8": 0, "prec@0.9": 0, count: 1 },
  refcocog: { mIoU: 1, oIoU: 1, "prec@0.5": 1, "prec@0.6": 1, "prec@0.7": 1, "prec@0.8": 1, "prec@0.9": 1, count: 1 },
};

async function segm(pred: unknown, extra: string[] = [], ann: unknown = annotations(), env: Record<string, string> = {}) {
  const dir = tempDir();
  const annFile = writeJson(dir, "ann.json", ann);
  const predFile = writeJson(dir, "pred.json", pred);
  const run = await runCli(["eval", "refcoco", "--iou-type", "segm", "--annotations", annFile, "--predictions", predFile, ...extra], { env });
  return { dir, run };
}

const jsonOf = (run: { stdout: string }) => metricsOf(JSON.parse(run.stdout));

describe("mdetr eval refcoco --iou-type segm", () => {
  it("scores masks per dataset_name: IoU 0.5 and 1 by hand, the table in percent", async () => {
    const { run } = await segm(predictions, ["--json", "-"]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(jsonOf(run), expected);
    const table = await segm(predictions);
    assert.match(table.run.stdout, /LAVT-RIS test\.py/);
    assert.match(table.run.stdout, /dataset\s+mIoU %\s+oIoU %\s+prec@0\.5 %/);
    assert.match(table.run.stdout, /refcoco\s+50\.00\s+50\.00\s+100\.00\s+0\.00/);
  });

  it("polygons rasterised at the image's size, parts and annotations united", async () => {
    // [0.5, 0.5]-[2.5, 1.5]... as rleFrPoly snaps: the box x in (0.5, 2.5], y in (-0.5, 1.5] covers columns 1..2, rows 0..1.
    const box = (x0: number, y0: number, x1: number, y1: number) => [x0, y0, x0, y1, x1, y1, x1, y0];
    const ann = annotations({
      images: [image(1)],
      annotations: [
        { id: 11, image_id: 1, segmentation: [box(0.5, -0.5, 2.5, 1.5)] },
        { id: 12, image_id: 1, segmentation: [box(2.5, -0.5, 3.5, 0.5), box(2.5, 1.5, 3.5, 2.5)] },
      ],
    });
    const { run } = await segm([{ image_id: 1, segmentation: rle(["0111", "0110", "0001"]) }], ["--json", "-"], ann);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual((jsonOf(run) as Record<string, Record<string, number>>)["all"]!["mIoU"], 1, "no dataset_name: one bucket named all");
  });

  it("the highest score counts, the first on ties; one entry needs no score", async () => {
    const wrong = rle(["0000", "0000", "1111"]);
    const pred = [
      { image_id: 2, segmentation: wrong, score: 0.5 },
      { image_id: 2, segmentation: rle(TARGET_2), score: 0.9 },
      { image_id: 1, segmentation: rle(["1111", "1111", "0000"]) },
      { image_id: 2, segmentation: wrong, score: 0.9 },
    ];
    const { run } = await segm(pred, ["--json", "-"]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(jsonOf(run), expected);
  });

  it("several entries for an expression need a score each", async () => {
    const { run } = await segm([predictions[0], { image_id: 1, segmentation: rle(TARGET_1) }, predictions[1]]);
    assertInputError(run, /pred\.json: \[1\]\.score: missing: expression 1 has several entries \(\[0\] and \[1\]\)/);
  });

  it("no-target expressions (no annotation) add ReLA's keys to their dataset", async () => {
    const ann = annotations({ images: [image(1, "grefcoco"), image(2, "grefcoco"), image(3, "refcoco")], annotations: [{ id: 11, image_id: 1, segmentation: rle(TARGET_1) }, { id: 13, image_id: 3, segmentation: rle(TARGET_1) }] });
    const empty = rle(["0000", "0000", "0000"]);
    const pred = [{ image_id: 1, segmentation: rle(TARGET_1) }, { image_id: 2, segmentation: empty }, { image_id: 3, segmentation: rle(TARGET_1) }];
    const { run } = await segm(pred, ["--json", "-"], ann);
    assert.equal(run.code, 0, run.stderr);
    const json = jsonOf(run) as Record<string, Record<string, number>>;
    // grefcoco: IoU 1 and (no target, predicted empty: U = 0) 0; ReLA: 1 and 1.
    assert.deepEqual(json["grefcoco"], { mIoU: 0.5, oIoU: 1, "prec@0.5": 0.5, "prec@0.6": 0.5, "prec@0.7": 0.5, "prec@0.8": 0.5, "prec@0.9": 0.5, gIoU: 1, cIoU: 1, "N-acc": 1, "T-acc": 1, count: 2 });
    assert.equal(json["refcoco"]!["gIoU"], undefined, "a dataset without no-target expressions has no ReLA keys");
    const table = await segm(pred, [], ann);
    assert.match(table.run.stdout, /gIoU %\s+cIoU %\s+N-acc %\s+T-acc %/);
    assert.match(table.run.stdout, /refcoco\s+100\.00(\s+100\.00){6}(\s+-){4}\s+1/);
  });

  it("the undefined cases give 0 with a warning: sum U = 0 (oIoU), no targeted expression (T-acc)", async () => {
    const ann = annotations({ images: [image(1, "gref")], annotations: [] });
    const { run } = await segm([{ image_id: 1, segmentation: rle(["0000", "0000", "0000"]) }], ["--json", "-"], ann);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(jsonOf(run), { gref: { mIoU: 0, oIoU: 0, "prec@0.5": 0, "prec@0.6": 0, "prec@0.7": 0, "prec@0.8": 0, "prec@0.9": 0, gIoU: 1, cIoU: 0, "N-acc": 1, "T-acc": 0, count: 1 } });
    assert.match(run.stderr, /gref: no pixel is predicted or annotated .*oIoU and cIoU reported as 0/);
    assert.match(run.stderr, /gref: every expression is no-target: T-acc reported as 0/);
  });

  it("--metric-variant cris: CRIS's keys, strict > (an IoU of exactly 0.5 misses)", async () => {
    const { run } = await segm(predictions, ["--json", "-", "--metric-variant", "cris"]);
    assert.equal(run.code, 0, run.stderr);
    const json = JSON.parse(run.stdout) as { meta: { options: Record<string, unknown>; protocol: string }; refcoco: Record<string, number> };
    assert.deepEqual(json.refcoco, { IoU: 4 / (8 + 1e-6), "Pr@50": 0, "Pr@60": 0, "Pr@70": 0, "Pr@80": 0, "Pr@90": 0, count: 1 });
    assert.equal(json.meta.options["metric_variant"], "cris");
    assert.match(json.meta.protocol, /CRIS\.pytorch/);
  });

  it("meta: the segm settings (no box settings) and every input with its hash", async () => {
    const dir = tempDir();
    const ann = writeJson(dir, "ann.json", annotations());
    const instances = writeJson(dir, "instances.json", { images: [{ id: 5, height: 3, width: 4 }], annotations: [{ id: 901, image_id: 5, segmentation: rle(TARGET_1) }, { id: 902, image_id: 5, segmentation: rle(TARGET_2) }] });
    const pred = writeJson(dir, "pred.json", predictions);
    const run = await runCli(["eval", "refcoco", "--iou-type", "segm", "--annotations", ann, "--instances", instances, "--predictions", pred, "--json", "-"]);
    assert.equal(run.code, 0, run.stderr);
    const { meta, ...metrics } = JSON.parse(run.stdout) as { meta: { options: unknown; inputs: Record<string, { sha256: string; path: string }> } };
    assert.deepEqual(metrics, expected);
    assert.deepEqual(meta.options, { iou_type: "segm", metric_variant: "lavt", allow_missing: false, prediction_format: "coco-results" });
    for (const [role, path] of [["annotations", ann], ["instances", instances], ["predictions", pred]] as const) {
      assert.equal(meta.inputs[role]!.sha256, createHash("sha256").update(readFileSync(path)).digest("hex"));
    }
  });

  it("shards: JSON lists by expression give the one file's numbers; an expression in two is an error", async () => {
    const dir = tempDir();
    const ann = writeJson(dir, "ann.json", annotations());
    const a = writeJson(dir, "a.json", [predictions[0]]);
    const b = writeJson(dir, "b.json", [predictions[1]]);
    const run = await runCli(["eval", "refcoco", "--iou-type", "segm", "--annotations", ann, "--predictions", a, b, "--json", "-"]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(jsonOf(run), expected);
    const both = await runCli(["eval", "refcoco", "--iou-type", "segm", "--annotations", ann, "--predictions", a, writeJson(dir, "c.json", predictions)]);
    assertInputError(both, /c\.json: the expression with image id 1 is also in .*a\.json/);
    const folder = await runCli(["eval", "refcoco", "--iou-type", "segm", "--annotations", ann, "--predictions", a, dir]);
    assertInputError(folder, /--predictions: .* is a folder of PNG masks, which is one prediction source: give it alone/);
  });

  it("a missing prediction is an error, or with --allow-missing an empty mask", async () => {
    const { run } = await segm([predictions[0]]);
    assertInputError(run, /pred\.json: no prediction for 1 of 2 expressions \(image ids 2\); pass --allow-missing/);
    const allowed = await segm([predictions[0]], ["--allow-missing", "--json", "-"]);
    assert.equal(allowed.run.code, 0, allowed.run.stderr);
    assert.deepEqual((jsonOf(allowed.run) as Record<string, Record<string, number>>)["refcocog"], { mIoU: 0, oIoU: 0, "prec@0.5": 0, "prec@0.6": 0, "prec@0.7": 0, "prec@0.8": 0, "prec@0.9": 0, count: 1 });
    assert.match(allowed.run.stderr, /1 expressions have no prediction and count as empty masks/);
  });

  it("box-only options are refused with segm, mask options without it", async () => {
    for (const extra of [["--match", "iou"], ["--iou-threshold", "0.5"], ["--k", "1"]]) {
      const { run } = await segm(predictions, extra);
      assertInputError(run, new RegExp(`${extra[0]}: box matching options, which masks do not use \\(--iou-type segm\\)`));
    }
    const dir = tempDir();
    const ann = writeJson(dir, "ann.json", annotations());
    const pred = writeJson(dir, "pred.json", predictions);
    for (const extra of [["--instances", ann], ["--metric-variant", "cris"]]) {
      const run = await runCli(["eval", "refcoco", "--annotations", ann, "--predictions", pred, ...extra]);
      assertInputError(run, new RegExp(`${extra[0]}: mask options: add --iou-type segm \\(--iou-type bbox\\)`));
    }
    const bad = await segm(predictions, ["--metric-variant", "mmdet"]);
    assert.equal(bad.run.code, 2);
  });

  it("unreferenced instances are not parsed or checked beyond JSON (in every engine), but their numbers must be finite", async () => {
    const dir = tempDir();
    const ann = writeJson(dir, "ann.json", annotations());
    const pred = writeJson(dir, "pred.json", predictions);
    const good = [{ id: 901, image_id: 5, segmentation: rle(TARGET_1) }, { id: 902, image_id: 5, segmentation: rle(TARGET_2) }];
    const instances = writeJson(dir, "instances.json", { annotations: [{ id: 7, image_id: 5, segmentation: [] }, ...good], images: [{ id: 5, height: 3, width: 4 }] });
    const huge = writeJson(dir, "huge.json", `{"images": [{"id": 5, "height": 3, "width": 4}], "annotations": [{"id": 7, "image_id": 5, "segmentation": [[1, 2, 1e400, 4, 5, 6]]}, ${JSON.stringify(good).slice(1, -1)}]}`);
    for (const engine of JSON_ENGINES) {
      const env = readingEnv({ engine });
      const run = await runCli(["eval", "refcoco", "--iou-type", "segm", "--annotations", ann, "--instances", instances, "--predictions", pred, "--json", "-"], { env });
      assert.equal(run.code, 0, `${engine}: ${run.stderr}`);
      assert.deepEqual(jsonOf(run), expected, engine);
      const bad = await runCli(["eval", "refcoco", "--iou-type", "segm", "--annotations", ann, "--instances", huge, "--predictions", pred], { env });
      assertInputError(bad, /huge\.json: annotations\[0\]\.segmentation\[0\]\[2\]: expected a finite number/);
    }
  });

  describe("bad input is an error naming the file and the place (exit 2)", () => {
    const cases: { name: string; pred?: unknown; ann?: unknown; instances?: unknown; error: RegExp }[] = [
      { name: "an RLE prediction whose size is not the image's", pred: [predictions[0], { image_id: 2, segmentation: rle(["0001", "0001"]) }], error: /pred\.json: \[1\]\.segmentation\.size: \[2, 4\] is not the image's size \[3, 4\]/ },
      { name: "counts that do not sum to h x w", pred: [{ image_id: 1, segmentation: { size: [3, 4], counts: [5, 2] } }, predictions[1]], error: /pred\.json: \[0\]\.segmentation\.counts: the runs add up to 7 pixels, but size 3 x 4 has 12/ },
      { name: "a prediction for an unknown expression", pred: [...predictions, { image_id: 99, segmentation: rle(TARGET_1) }], error: /pred\.json: \[2\]\.image_id: no expression with id 99 in .*ann\.json/ },
      { name: "a prediction without a mask", pred: [{ image_id: 1, score: 1 }, predictions[1]], error: /pred\.json: \[0\]\.segmentation: missing/ },
      { name: "predictions that are not a list", pred: { "1": predictions[0] }, error: /pred\.json: expected a COCO results list .*, got an object/ },
      { name: "an empty polygon list", ann: annotations({ annotations: [{ id: 11, image_id: 1, segmentation: [] }] }), error: /ann\.json: annotations\[0\]\.segmentation: an empty polygon list/ },
      { name: "a first polygon of 4 numbers", ann: annotations({ annotations: [{ id: 11, image_id: 1, segmentation: [[0, 0, 2, 2], [0, 0, 2, 0, 2, 2]] }] }), error: /ann\.json: annotations\[0\]\.segmentation\[0\]: the first polygon has 4 numbers/ },
      { name: "an RLE target of another size", ann: annotations({ annotations: [{ id: 11, image_id: 1, segmentation: rle(["11", "11", "00"]) }] }), error: /ann\.json: annotations\[0\]\.segmentation\.size: \[3, 2\] is not the image's size \[3, 4\]/ },
      { name: "an annotation without a mask and no --instances", ann: annotations({ annotations: [{ id: 11, image_id: 1, bbox: [0, 0, 1, 1] }] }), error: /ann\.json: annotations\[0\]\.segmentation: missing: without --instances/ },
      { name: "an expression without its size", ann: annotations({ images: [{ id: 1, caption: "x", height: 3 }] }), error: /ann\.json: images\[0\]\.width: expected the image's width in pixels/ },
      { name: "an annotation of no expression", ann: annotations({ annotations: [{ id: 11, image_id: 7, segmentation: rle(TARGET_1) }] }), error: /ann\.json: annotations\[0\]\.image_id: no image with id 7 in images\[\]/ },
      {
        name: "an original_id not in the instances",
        instances: { images: [{ id: 5, height: 3, width: 4 }], annotations: [{ id: 901, image_id: 5, segmentation: rle(TARGET_1) }] },
        error: /ann\.json: annotations\[1\]\.original_id: no annotation with id 902 in .*instances\.json/,
      },
      {
        name: "an instances image of another size",
        instances: { images: [{ id: 5, height: 3, width: 4 }, { id: 6, height: 4, width: 3 }], annotations: [{ id: 901, image_id: 5, segmentation: rle(TARGET_1) }, { id: 902, image_id: 6, segmentation: [[0, 0, 1, 0, 1, 1]] }] },
        error: /ann\.json: images\[1\]: the image is 3 x 4 \(height x width\), but the mask of annotations\[1\] \(original_id 902\) is on .*instances\.json images\[1\] \(image id 6\), which is 4 x 3/,
      },
      {
        name: "a referenced instance without a segmentation",
        instances: { images: [{ id: 5, height: 3, width: 4 }], annotations: [{ id: 901, image_id: 5 }, { id: 902, image_id: 5, segmentation: rle(TARGET_2) }] },
        error: /instances\.json: annotations\[0\]\.segmentation: missing/,
      },
      {
        name: "a referenced instance with an empty polygon list",
        instances: { images: [{ id: 5, height: 3, width: 4 }], annotations: [{ id: 901, image_id: 5, segmentation: [] }, { id: 902, image_id: 5, segmentation: rle(TARGET_2) }] },
        error: /instances\.json: annotations\[0\]\.segmentation: an empty polygon list/,
      },
    ];
    for (const c of cases) {
      for (const engine of JSON_ENGINES) {
        it(`${c.name} (${engine} engine)`, async () => {
          const dir = tempDir();
          const extra = c.instances === undefined ? [] : ["--instances", writeJson(dir, "instances.json", c.instances)];
          const { run } = await segm(c.pred ?? predictions, extra, c.ann ?? annotations(), readingEnv({ engine }));
          assertInputError(run, c.error);
        });
      }
    }
  });
});
