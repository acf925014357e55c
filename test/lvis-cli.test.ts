import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { assertInputError, runCli, tempDir, writeJson } from "./helpers.js";

const groundTruth = {
  images: [
    { id: 1, neg_category_ids: [2], not_exhaustive_category_ids: [] },
    { id: 2, neg_category_ids: [], not_exhaustive_category_ids: [] },
  ],
  categories: [
    { id: 1, name: "cat", frequency: "f", image_count: 2 },
    { id: 2, name: "dog, small", frequency: "r", image_count: 1 },
  ],
  annotations: [
    { id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 100, 100], area: 10000, segmentation: [[0, 0, 100, 0, 100, 100]] },
    { id: 2, image_id: 2, category_id: 1, bbox: [10, 10, 50, 50], area: 2500, segmentation: [[10, 10, 60, 10, 60, 60]] },
  ],
};
const detections = [
  { image_id: 1, category_id: 1, bbox: [0, 0, 100, 100], score: 0.9 },
  { image_id: 2, category_id: 1, bbox: [10, 10, 50, 50], score: 0.8 },
  { image_id: 1, category_id: 2, bbox: [0, 0, 10, 10], score: 0.7 },
];

async function lvis(dets: unknown, extra: string[] = [], gt: unknown = groundTruth) {
  const dir = tempDir();
  const args = ["eval", "lvis", "--annotations", writeJson(dir, "gt.json", gt), "--predictions", writeJson(dir, "dets.json", dets), ...extra];
  return { dir, run: await runCli(args) };
}


describe("mdetr eval lvis", () => {
  it("prints the protocol above a table, and --json - gives lvis-api's keys", async () => {
    const table = (await lvis(detections)).run;
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^fixed AP \(Dave et al\. 2021, as MDETR reports it\)/);
    assert.match(table.stdout, /APf\s+100\.00/);
    const json = (await lvis(detections, ["--ap", "standard", "--json", "-"])).run;
    const parsed = JSON.parse(json.stdout) as { meta: { protocol: string; options: Record<string, unknown> } };
    // meta first, then lvis-api's keys where they always were.
    assert.match(parsed.meta.protocol, /^standard AP \(lvis-api\): at most 300 detections per image/);
    assert.deepEqual(parsed.meta.options, { iou_type: "bbox", protocol: "standard", max_dets: 300, dets_per_category: 10000, ignore_unknown_images: false });
    assert.deepEqual(Object.keys(parsed), ["meta", "AP", "AP50", "AP75", "APs", "APm", "APl", "APr", "APc", "APf", "AR@300", "ARs@300", "ARm@300", "ARl@300"]);
  });

  it("writes --per-category CSV (names quoted where needed)", async () => {
    const out = join(tempDir(), "per.csv");
    const ok = (await lvis(detections, ["--per-category", out])).run;
    assert.equal(ok.code, 0, ok.stderr);
    const lines = readFileSync(out, "utf8").trim().split("\n");
    assert.equal(lines[0], "id,name,frequency,num_gt,num_dets,AP,AP50");
    assert.match(lines[1]!, /^1,cat,f,2,2,(1|0\.99\d*),(1|0\.99\d*)$/);
    assert.match(lines[2]!, /^2,"dog, small",r,0,1,-1,-1$/);
  });

  it("refuses detections for unknown images unless --ignore-unknown-images", async () => {
    const dets = [...detections, { image_id: 99, category_id: 1, bbox: [0, 0, 1, 1], score: 0.5 }];
    assertInputError((await lvis(dets)).run, /dets\.json: \[3\]\.image_id: no image with id 99 in the ground truth \(--ignore-unknown-images skips such detections\)/);
    const skipped = (await lvis(dets, ["--ignore-unknown-images"])).run;
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.match(skipped.stderr, /warning: .*1 detections for images not in .*gt\.json \(99\); skipped/);
  });

  for (const [name, dets, pattern] of [
    ["an unknown category", [{ image_id: 1, category_id: 7, bbox: [0, 0, 1, 1], score: 0.5 }], /\[0\]\.category_id: no category with id 7/],
    ["a negative width", [{ image_id: 1, category_id: 1, bbox: [0, 0, -1, 1], score: 0.5 }], /\[0\]\.bbox: width and height must be >= 0/],
    ["a null score", [{ image_id: 1, category_id: 1, bbox: [0, 0, 1, 1], score: null }], /\[0\]\.score: expected a finite number, got null/],
    ["a dict instead of a list", { a: 1 }, /dets\.json: expected a list of detections/],
  ] as const) {
    it(`refuses ${name}`, async () => assertInputError((await lvis(dets)).run, pattern));
  }

  it("refuses ground truth whose ids do not resolve", async () => {
    const gt = { ...groundTruth, images: [{ id: 1, neg_category_ids: [5], not_exhaustive_category_ids: [] }, groundTruth.images[1]] };
    assertInputError((await lvis(detections, [], gt)).run, /gt\.json: images\[0\]\.neg_category_ids\[0\]: no category with id 5/);
    const badFrequency = { ...groundTruth, categories: [{ id: 1, name: "cat", frequency: "x" }, groundTruth.categories[1]] };
    assertInputError((await lvis(detections, [], badFrequency)).run, /gt\.json: categories\[0\]\.frequency: expected "r", "c" or "f"/);
  });

  it("gives 0 AP, not a crash, for an empty detection list", async () => {
    const run = (await lvis([], ["--json", "-"])).run;
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).AP, 0);
  });
});
