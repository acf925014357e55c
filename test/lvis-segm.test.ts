/**
 * `eval lvis --iou-type segm`: the golden cases of lvis-api (standard) and large-vocab-devil's
 * evaluate_ap_fixed.py --type segm (fixed), the area rules, and bad masks.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { goldenCases, goldenSuite, numericDifferences, runCli, tempDir } from "./helpers.js";

describe("eval lvis --iou-type segm matches lvis-api and large-vocab-devil", () => {
  // Bit for bit: the summary sums as numpy does (compat/numpy.ts addReduce).
  goldenSuite("masks/lvis-segm", 0);

  it("box AP on the same files gives other numbers (the masks are used)", async () => {
    const golden = goldenCases("masks/lvis-segm").find((c) => c.name === "synth_mask_area")!;
    const dets = (JSON.parse((await import("node:fs")).readFileSync(join(golden.dir, "dets.json"), "utf8")) as { segmentation: unknown; bbox?: number[] }[]);
    assert.ok(dets.every((d) => d.bbox === undefined));
    const run = await runCli(["eval", "lvis", "--iou-type", "segm", "--annotations", "gt.json", "--predictions", "dets.json", "--ap", "standard", "--json", "-"], { cwd: golden.dir });
    assert.equal(run.code, 0, run.stderr);
    const json = JSON.parse(run.stdout) as { meta: { options: Record<string, unknown>; protocol: string } };
    assert.equal(json.meta.options["iou_type"], "segm");
    assert.equal(json.meta.options["detection_area"], "mask");
    assert.match(json.meta.protocol, /mask AP/);
  });
});

/** A tiny ground truth: one 10 x 10 image, one category, one square annotation. */
function groundTruth(annotation: Record<string, unknown> = {}, image: Record<string, unknown> = {}) {
  return {
    images: [{ id: 1, height: 10, width: 10, neg_category_ids: [], not_exhaustive_category_ids: [], ...image }],
    categories: [{ id: 1, name: "a", frequency: "f" }],
    annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [2, 2, 4, 4], area: 16, segmentation: [[2, 2, 6, 2, 6, 6, 2, 6]], ...annotation }],
  };
}

async function evalSegm(gt: unknown, dets: unknown, extra: string[] = []) {
  const dir = tempDir();
  writeFileSync(join(dir, "gt.json"), JSON.stringify(gt));
  writeFileSync(join(dir, "dets.json"), JSON.stringify(dets));
  return runCli(["eval", "lvis", "--iou-type", "segm", "--annotations", "gt.json", "--predictions", "dets.json", "--ap", "standard", "--json", "-", ...extra], { cwd: dir });
}

const square = { size: [10, 10], counts: "f04600000V1" };

describe("eval lvis --iou-type segm: inputs", () => {
  it("a detection equal to the ground truth mask scores AP 1 in every form", async () => {
    for (const segmentation of [square, [[2, 2, 6, 2, 6, 6, 2, 6]], { size: [10, 10], counts: [22, 4, 6, 4, 6, 4, 6, 4, 44] }]) {
      const run = await evalSegm(groundTruth(), [{ image_id: 1, category_id: 1, score: 0.9, segmentation }]);
      assert.equal(run.code, 0, run.stderr);
      assert.ok(Math.abs((JSON.parse(run.stdout) as { AP: number }).AP - 1) < 1e-12, JSON.stringify(segmentation));
    }
  });

  it("bad masks are input errors naming the file and the place", async () => {
    const cases: [unknown, unknown, RegExp][] = [
      [groundTruth(), [{ image_id: 1, category_id: 1, score: 1, segmentation: { size: [10, 11], counts: "f04600000V1" } }], /dets\.json: \[0\]\.segmentation\.counts: the runs add up to 100 pixels, but size 10 x 11 has 110/],
      [groundTruth(), [{ image_id: 1, category_id: 1, score: 1, segmentation: { size: [5, 20], counts: "f04600000V1" } }], /dets\.json: \[0\]\.segmentation\.size: \[5, 20\] is not the image's size \[10, 10\]/],
      [groundTruth({ segmentation: [] }), [], /gt\.json: annotations\[0\]\.segmentation: an empty polygon list/],
      [groundTruth({ segmentation: [[1, 1, 5, 5]] }), [], /gt\.json: annotations\[0\]\.segmentation\[0\]: the first polygon has 4 numbers/],
      [groundTruth({ segmentation: { size: [10, 10], counts: [1, 2] } }), [], /gt\.json: annotations\[0\]\.segmentation\.counts: the runs add up to 3 pixels/],
      [groundTruth({ segmentation: undefined }), [], /gt\.json: annotations\[0\]\.segmentation: missing/],
      [groundTruth({}, { height: undefined }), [], /gt\.json: images\[0\]\.height: expected the image's height/],
      [groundTruth(), [{ image_id: 1, category_id: 1, score: 1, segmentation: { size: [10, 10], counts: "f0 4600000V1" } }], /\[0\]\.segmentation\.counts: character 2/],
      [groundTruth(), [{ image_id: 1, category_id: 1, score: 1, bbox: [0, 0, 2, 2], segmentation: square }, { image_id: 1, category_id: 1, score: 1, segmentation: square }], /dets\.json: \[1\]\.bbox: missing: the first detection/],
      [groundTruth(), [{ image_id: 1, category_id: 1, score: 1, segmentation: square }, { image_id: 1, category_id: 1, score: 1, bbox: [0, 0, 2, 2] }], /dets\.json: \[1\]\.segmentation: missing/],
    ];
    for (const [gt, dets, message] of cases) {
      const run = await evalSegm(gt, dets);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, message);
      assert.doesNotMatch(run.stderr, /\n\s+at /);
    }
  });

  it("detection areas: the first detection's bbox decides (standard); fixed always uses the mask", async () => {
    // A false positive with a 4-pixel mask but a huge box, ranked above the perfect match: in the
    // small range it counts when areas are mask areas and is ignored when they are box areas.
    const corner = { size: [10, 10], counts: "h2280" };
    const dets = [
      { image_id: 1, category_id: 1, score: 0.9, segmentation: corner, bbox: [0, 0, 100, 100] },
      { image_id: 1, category_id: 1, score: 0.5, segmentation: square, bbox: [2, 2, 4, 4] },
    ];
    const small = async (extra: string[], list: unknown[]) => {
      const run = await evalSegm(groundTruth(), list, extra);
      assert.equal(run.code, 0, run.stderr);
      return (JSON.parse(run.stdout) as Record<string, number>)["APs"]!;
    };
    assert.ok(Math.abs((await small([], dets)) - 1) < 1e-12, "box areas: the false positive is outside the small range");
    assert.ok((await small(["--ap", "fixed"], dets)) < 0.6, "fixed: mask areas, the false positive counts");
    const withoutBoxes = dets.map(({ bbox: _bbox, ...d }) => d);
    assert.ok((await small([], withoutBoxes)) < 0.6, "no bbox on the first detection: mask areas");
  });
});

describe("eval lvis --threads", () => {
  it("gives the same numbers on 1, 2 and 3 threads, in both IoU types", async () => {
    for (const [tool, name] of [["masks/lvis-segm", "synth_mask_area"], ["masks/lvis-segm", "synth_fixed"], ["lvis", "synth_standard"]] as const) {
      const golden = goldenCases(tool).find((c) => c.name === name)!;
      const outputs: unknown[] = [];
      for (const threads of ["1", "2", "3"]) {
        const run = await runCli([...golden.argv.map((a) => (a === "{out}" ? "-" : a)), "--threads", threads], { cwd: golden.dir });
        assert.equal(run.code, 0, run.stderr);
        const { meta: _meta, ...metrics } = JSON.parse(run.stdout) as Record<string, unknown>;
        assert.deepEqual(numericDifferences(golden.expected, metrics), []);
        outputs.push(metrics);
      }
      assert.deepEqual(outputs[1], outputs[0]);
      assert.deepEqual(outputs[2], outputs[0]);
    }
  });
});
