import assert from "node:assert/strict";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { assertInputError, metricsOf, readJsonFile, runCli, tempDir, writeJson } from "./helpers.js";

function image(id: number, caption: string, extra: Record<string, unknown> = {}) {
  return { id, file_name: "COCO_train2014_000000000042.jpg", height: 480, width: 640, caption, tokens_negative: [[0, caption.length]], original_id: 42, data_source: "coco", dataset_name: "refcoco", ...extra };
}
function annotation(id: number, imageId: number, bbox: number[], tokensPositive: number[][], extra: Record<string, unknown> = {}) {
  return { id, image_id: imageId, bbox, area: bbox[2]! * bbox[3]!, iscrowd: 0, category_id: 1, tokens_positive: tokensPositive, ...extra };
}
/** Two captions about image coco:42 whose boxes are far apart (they merge), one vg image. */
function dataset(overrides: { images?: unknown[]; annotations?: unknown[] } = {}) {
  return {
    images: overrides.images ?? [image(1, "the red car"), image(2, "a dog?"), image(3, "tree", { data_source: "vg", original_id: 7, file_name: "7.jpg" })],
    annotations: overrides.annotations ?? [annotation(10, 1, [0, 0, 10, 10], [[4, 11]]), annotation(11, 2, [100, 100, 10, 10], [[2, 5]]), annotation(12, 3, [1, 1, 5, 5], [[0, 4]])],
  };
}

async function merge(inputs: unknown[], extra: string[] = []) {
  const dir = tempDir();
  const files = inputs.map((content, i) => writeJson(dir, `in${i + 1}.json`, content));
  const out = join(dir, "mixed.json");
  return { dir, out, run: await runCli(["merge-annotations", ...files, "-o", out, ...extra]) };
}


describe("mdetr merge-annotations", () => {
  it("combines the captions of one image and writes MDETR's layout", async () => {
    const { out, run } = await merge([dataset()]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /merged 3 datapoints of 2 images into 2 datapoints/);
    const mixed = readJsonFile(out) as { images: Record<string, unknown>[]; annotations: Record<string, unknown>[]; categories: unknown[] };
    assert.deepEqual(mixed.images.map((i) => [i["caption"], i["original_id"], i["data_source"], i["file_name"], i["dataset_name"], i["id"]]), [
      ["a dog? the red car.", "42", "coco", "COCO_train2014_000000000042.jpg", "mixed", 0],
      ["tree.", "7", "vg", "7.jpg", "mixed", 1],
    ]);
    assert.deepEqual(mixed.images[0]!["tokens_negative"], [[0, 5], [7, 18]]);
    assert.deepEqual(mixed.annotations.map((a) => [a["image_id"], a["id"], a["tokens_positive"], a["bbox"]]), [
      [0, 0, [[2, 5]], [100, 100, 10, 10]],
      [0, 1, [[11, 18]], [0, 0, 10, 10]],
      [1, 2, [[0, 4]], [1, 1, 5, 5]],
    ]);
    assert.deepEqual(mixed.categories, []);
  });

  it("groups datapoints of one image across input files, coco images before vg ones", async () => {
    const first = dataset({ images: [image(3, "oak", { data_source: "vg", original_id: 7 })], annotations: [annotation(12, 3, [200, 200, 5, 5], [[0, 3]])] });
    const { out, run } = await merge([first, dataset()]);
    assert.equal(run.code, 0, run.stderr);
    const mixed = readJsonFile(out) as { images: Record<string, unknown>[] };
    // Equal degrees colour the later datapoint first, so it leads the combined caption.
    assert.deepEqual(mixed.images.map((i) => i["caption"]), ["a dog? the red car.", "tree. oak."]);
  });

  it("drops --exclude images and reports the count; prints a statistics table", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "exclude.txt"), "# evaluation images\nvg:7\n\n");
    const { out, run } = await merge([dataset()], ["--exclude", join(dir, "exclude.txt")]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /excluded 1 images \(1 datapoints\)/);
    assert.match(run.stdout, /datapoints out\s+1\n/);
    assert.match(run.stdout, /images with 1 colour\s+1/);
    assert.equal((readJsonFile(out) as { images: unknown[] }).images.length, 1);
  });

  it("--json FILE writes the statistics with meta, like every command; --json - instead of the table", async () => {
    const dir = tempDir();
    const { run } = await merge([dataset()], ["--json", join(dir, "stats.json"), "--max-chars", "200"]);
    assert.equal(run.code, 0, run.stderr);
    const written = readJsonFile(join(dir, "stats.json")) as { meta: { command: string; options: Record<string, unknown>; inputs: { inputs: { path: string; sha256: string }[] } } };
    assert.equal(written.meta.command, "merge-annotations");
    assert.deepEqual(written.meta.options, { overlap: "giou", max_overlap: 0.5, max_chars: 200, mdetr_compat: false });
    assert.match(written.meta.inputs.inputs[0]!.sha256, /^[0-9a-f]{64}$/);
    const piped = await merge([dataset()], ["--json", "-"]);
    assert.doesNotMatch(piped.run.stdout, /statistic\s+value/);
    assert.deepEqual(metricsOf(JSON.parse(piped.run.stdout)), metricsOf(written));
    assert.deepEqual(metricsOf(written), {
      images: 2, datapoints_in: 3, datapoints_out: 2,
      captions_per_datapoint: { mean: 1.5, max: 2 }, colour_histogram: { "1": 2 }, uncombined: 1, excluded: { images: 0, datapoints: 0 },
    });
  });

  it("warns about conflicting image sizes and keeps the first", async () => {
    const images = [image(1, "the red car"), image(2, "a dog?", { height: 100 }), image(3, "tree", { data_source: "vg", original_id: 7 })];
    const { out, run } = await merge([dataset({ images })]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /warning: 1 images have datapoints with different sizes \(coco:42: 640x480 and 640x100\); the first size was kept/);
    assert.equal((readJsonFile(out) as { images: Record<string, unknown>[] }).images[0]!["height"], 480);
  });

  describe("rejects bad input with exit code 2, naming file and JSON path, and writes nothing", () => {
    const cases: [string, unknown, RegExp][] = [
      ["a span starting outside the caption", dataset({ annotations: [annotation(10, 1, [0, 0, 10, 10], [[11, 12]])] }), /in1\.json: annotations\[0\]\.tokens_positive: \[0\]: span \[11, 12\] starts outside the caption \(length 11\)/],
      ["a span ending before it starts", dataset({ annotations: [annotation(10, 1, [0, 0, 10, 10], [[4, 2]])] }), /annotations\[0\]\.tokens_positive: \[0\]: span \[4, 2\] ends before it starts/],
      ["a negative span in tokens_negative", dataset({ images: [image(1, "car", { tokens_negative: [[-1, 2]] })], annotations: [] }), /in1\.json: images\[0\]\.tokens_negative: \[0\]: span \[-1, 2\] starts outside/],
      ["a box of 3 numbers", dataset({ annotations: [annotation(10, 1, [0, 0, 10], [[0, 3]])] }), /annotations\[0\]\.bbox: expected 4 numbers, got an array of 3/],
      ["a string coordinate", dataset({ annotations: [annotation(10, 1, [0, "0", 10, 10] as number[], [[0, 3]])] }), /annotations\[0\]\.bbox: \[1\]: expected a finite number, got the string "0"/],
      ["an annotation whose image is missing", dataset({ annotations: [annotation(10, 99, [0, 0, 10, 10], [[0, 3]])] }), /annotations\[0\]\.image_id: no image with id 99 in images\[\]/],
      ["an empty caption", dataset({ images: [image(1, "")], annotations: [] }), /images\[0\]\.caption: expected a non-empty string/],
      ["an unknown data_source", dataset({ images: [image(1, "car", { data_source: "flickr" })], annotations: [] }), /images\[0\]\.data_source: expected "coco" or "vg", got the string "flickr"/],
      ["1e400 as an area", '{"images": [], "annotations": [{"image_id": 1, "bbox": [0,0,1,1], "area": 1e400, "iscrowd": 0, "category_id": 1, "tokens_positive": []}]}', /annotations\[0\]\.area: expected a finite number, got a number out of range/],
    ];
    for (const [name, input, pattern] of cases) {
      it(name, async () => {
        const { dir, out, run } = await merge([input]);
        assertInputError(run, pattern);
        assert.equal(existsSync(out), false);
        assert.deepEqual(readdirSync(dir).sort(), ["in1.json"]);
      });
    }

    it("a malformed --exclude line", async () => {
      const dir = tempDir();
      writeFileSync(join(dir, "exclude.txt"), "coco:1\nflickr 3\n");
      assertInputError((await merge([dataset()], ["--exclude", join(dir, "exclude.txt")])).run, /exclude\.txt: line 2: expected data_source:original_id/);
    });
  });

  it("refuses --mdetr-compat with --overlap giou (usage, exit 2)", async () => {
    const { run } = await merge([dataset()], ["--mdetr-compat", "--overlap", "giou"]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--mdetr-compat measures overlap by IoU/);
  });

  it("--help explains both modes with examples", async () => {
    const run = await runCli(["merge-annotations", "--help"]);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /--mdetr-compat\s+exactly MDETR's released script/);
    assert.match(run.stdout, /Examples:\n\s+\$ mdetr merge-annotations/);
  });
});
