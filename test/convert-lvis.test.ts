import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { withAtomicFile } from "../src/core/atomic-write.js";
import { cleanName } from "../src/formats/lvis/clean-name.js";
import { referenceName } from "../src/convert/lvis/convert-lvis.js";
import { sampleBalancedSubset, SamplerFailure, type SamplerInput } from "../src/convert/lvis/sampler.js";
import { assertInputError, enginesOf, GOLDEN_READINGS, goldenCases, readingEnv, readingName, readJsonFile, runCli, tempDir, writeJson } from "./helpers.js";

describe("convert lvis matches MDETR's scripts on the golden cases", () => {
  for (const golden of goldenCases("convert-lvis")) {
    for (const reading of GOLDEN_READINGS) {
      it(`${golden.name} (${readingName(reading)})`, async () => {
        const dir = tempDir();
        const out = join(dir, "out.json");
        const summary = join(dir, "summary.json");
        const run = await runCli([...golden.argv.map((a) => a.replace("{out}", out)), "--json", summary], { cwd: golden.dir, env: readingEnv(reading) });
        assert.equal(run.code, 0, run.stderr);
        // Structural equality, numbers by value (JSON.parse reads 1 and 1.0 alike).
        assert.deepStrictEqual(readJsonFile(out), golden.expected);
        assert.deepEqual(enginesOf(readJsonFile(summary)), [reading.engine]);
        assert.deepEqual(readdirSync(dir).sort(), ["out.json", "summary.json"], "no temporary file is left");
      });
    }
  }
});

describe("clean_name: MDETR's caption for a category", () => {
  const cases: [string, string][] = [
    ["bow_(weapon)", "bow "],
    ["cap_(headwear)_with_(visor)", "cap "],
    ["fish_(food))", "fish "],
    ["bead_(", "bead ("],
    ["a)_(b", "a) (b"],
    ["soup___bowl", "soup  bowl"],
    ["hat____brim", "hat  brim"],
    ["hat__(straw)__brim", "hat  brim"],
    ["monitor_(computer_equipment) computer_monitor", "monitor computer monitor"],
    ["(mini)_van", " van"],
    ["(x)", ""],
    ["crème_brûlée", "crème brûlée"],
    // Python's `.` crosses "\r" but not "\n".
    ["a_(b\nc)_d", "a (b\nc) d"],
    ["a_(b\rc)_d", "a d"],
  ];
  for (const [name, caption] of cases) {
    it(`${JSON.stringify(name)} -> ${JSON.stringify(caption)}`, () => assert.equal(cleanName(name), caption));
  }
});

describe("MDETR's name for a subset: round(fract * 100), half to even", () => {
  const names: [number, string][] = [[1, "lvis"], [0.01, "lvis1"], [0.05, "lvis5"], [0.1, "lvis10"], [0.57, "lvis57"], [0.125, "lvis12"], [0.015, "lvis2"], [0.025, "lvis2"], [0.005, "lvis0"]];
  for (const [fraction, name] of names) it(`${fraction} -> ${name}`, () => assert.equal(referenceName(fraction), name));
});

/** A sampler input from readable lists: images with their ids, positives, negatives and not-exhaustive lists. */
function samplerInput(images: { id: number; pos?: number[]; neg?: number[]; notExhaustive?: number[] }[], categories: { id: number; imageCount: number }[]): SamplerInput {
  const index = new Map(categories.map((c, i) => [c.id, i]));
  const lists = (key: "neg" | "notExhaustive") => {
    const start = [0];
    const entries: number[] = [];
    for (const image of images) {
      entries.push(...(image[key] ?? []).map((id) => index.get(id)!));
      start.push(entries.length);
    }
    return { start: Int32Array.from(start), entries: Int32Array.from(entries) };
  };
  const annotations = images.flatMap((image, i) => (image.pos ?? []).map((id) => [i, index.get(id)!] as const));
  const negative = lists("neg");
  const notExhaustive = lists("notExhaustive");
  return {
    imageIds: Float64Array.from(images, (i) => i.id),
    negativeStart: negative.start,
    negativeCategory: negative.entries,
    notExhaustiveStart: notExhaustive.start,
    notExhaustiveCategory: notExhaustive.entries,
    annotationImage: Int32Array.from(annotations, (a) => a[0]),
    annotationCategory: Int32Array.from(annotations, (a) => a[1]),
    categoryIds: Float64Array.from(categories, (c) => c.id),
    categoryImageCount: Float64Array.from(categories, (c) => c.imageCount),
  };
}

const pickedIds = (input: SamplerInput, fraction: number, seed = 42n) => [...sampleBalancedSubset(input, { fraction, seed }).picks].map((i) => input.imageIds[i]);

describe("the sampler's visiting order and counting rules", () => {
  // Every candidate set below has one image, so the random numbers decide nothing: the order does.
  it("visits the least counted category first; among ties image_count ascending, then id ascending", () => {
    const categories = [{ id: 2, imageCount: 5 }, { id: 1, imageCount: 5 }, { id: 3, imageCount: 1 }];
    // Pick 1 is negative: category 3 (image_count 1) has no negative image, so category 1 (5, id 1)
    // gives image 10; then positive picks: 1 and 2 tie at 0 and id 1 goes first.
    const input = samplerInput([{ id: 10, pos: [3], neg: [1] }, { id: 30, pos: [2] }, { id: 20, pos: [1] }, { id: 40 }], categories);
    assert.deepEqual(pickedIds(input, 0.75), [10, 20, 30]);
    // With category 1's image_count raised it is visited after category 2.
    const swapped = samplerInput([{ id: 10, pos: [3], neg: [1] }, { id: 30, pos: [2] }, { id: 20, pos: [1] }, { id: 40 }], [{ id: 2, imageCount: 5 }, { id: 1, imageCount: 6 }, { id: 3, imageCount: 1 }]);
    assert.deepEqual(pickedIds(swapped, 0.75), [10, 30, 20]);
  });

  it("an image does not count for a category it lists as not exhaustive, when the category is exhaustive elsewhere", () => {
    // Category 1 is exhaustive on image 20 only, so image 10 is no candidate for it: pick 1
    // (negative) takes 5, pick 2 takes 20 for category 1, and pick 3 finds nothing left.
    const input = samplerInput([{ id: 5, neg: [2] }, { id: 10, pos: [1], notExhaustive: [1] }, { id: 20, pos: [1, 2] }, { id: 30 }, { id: 40 }, { id: 50 }], [{ id: 1, imageCount: 1 }, { id: 2, imageCount: 2 }]);
    assert.deepEqual(pickedIds(input, 0.4), [5, 20]);
    assert.throws(() => sampleBalancedSubset(input, { fraction: 0.5, seed: 42n }), /at pick 3 of 3/);
  });

  it("a category never exhaustively annotated takes all its annotations, not-exhaustive images included", () => {
    const input = samplerInput([{ id: 7, pos: [1], neg: [1] }, { id: 8, pos: [2], notExhaustive: [2] }, { id: 9 }, { id: 11 }], [{ id: 1, imageCount: 3 }, { id: 2, imageCount: 1 }]);
    assert.deepEqual(pickedIds(input, 0.5), [7, 8]);
  });

  it("candidates are sorted by id as numbers (9 before 10), and choice(2) draws 2 bits", () => {
    // Seed 42's first output has high bits 10 (2: rejected), its second 00: index 0, image 9.
    const input = samplerInput([{ id: 10, pos: [1, 2], neg: [2] }, { id: 9, pos: [1, 2], neg: [2] }, { id: 100 }, { id: 101 }], [{ id: 1, imageCount: 1 }, { id: 2, imageCount: 1 }]);
    assert.deepEqual(pickedIds(input, 0.5), [9, 10]);
  });

  it("fails as the reference asserts: no candidate for a pick, a category left without an image, nothing to pick", () => {
    const categories = [{ id: 1, imageCount: 1 }];
    const noNegatives = samplerInput([{ id: 1, pos: [1] }, { id: 2, pos: [1] }], categories);
    assert.throws(() => sampleBalancedSubset(noNegatives, { fraction: 0.5, seed: 42n }), (e: unknown) => e instanceof SamplerFailure && /pick 1 of 1 is a negative one/.test(e.message));
    const onePositive = samplerInput([{ id: 1, neg: [1] }, { id: 2, pos: [1] }, { id: 3 }, { id: 4 }, { id: 5 }, { id: 6 }, { id: 7 }, { id: 8 }, { id: 9 }, { id: 10 }], categories);
    assert.throws(() => sampleBalancedSubset(onePositive, { fraction: 0.3, seed: 42n }), /at pick 3 of 3 every image with an annotation the sampler counts is taken/);
    const uncovered = samplerInput([{ id: 1, pos: [1], neg: [2] }, { id: 2 }], [{ id: 1, imageCount: 1 }, { id: 2, imageCount: 1 }]);
    assert.throws(() => sampleBalancedSubset(uncovered, { fraction: 0.5, seed: 42n }), /leave 1 of 2 categories without an image \(ids 2\).*1 of them have no annotation at all/);
    assert.throws(() => sampleBalancedSubset(uncovered, { fraction: 0.4, seed: 42n }), /int\(2 images \* 0.4\) = 0/);
  });
});

describe("convert lvis: failures exit 2 with one line and leave no output", () => {
  const base = () => readJsonFile(join(goldenCases("convert-lvis").find((c) => c.name === "small_f03_mdetr")!.dir, "lvis_train.json")) as {
    info: unknown;
    images: Record<string, unknown>[];
    annotations: Record<string, unknown>[];
    categories: Record<string, unknown>[];
  };
  const attempt = async (data: unknown, args: string[]) => {
    const dir = tempDir();
    const input = writeJson(dir, "lvis.json", data);
    const out = join(dir, "out.json");
    const run = await runCli(["convert", "lvis", "--annotations", input, "-o", out, ...args]);
    assert.ok(!existsSync(out), "no output file");
    assert.deepEqual(readdirSync(dir), ["lvis.json"], "no temporary file either");
    return run;
  };

  it("a fraction whose target is 0 images", async () => {
    assertInputError(await attempt(base(), ["--fraction", "0.01"]), /lvis\.json: MDETR's sampler fails for --fraction 0.01 --seed 42: int\(60 images \* 0.01\) = 0: no image to pick/);
  });

  it("a fraction above 1 that asks for more images than the file has", async () => {
    assertInputError(await attempt(base(), ["--fraction", "1.02"]), /int\(60 images \* 1.02\) = 61 is more images than the file has/);
  });

  it("a category without any annotation (the sampler's final assertion)", async () => {
    const data = base();
    data.categories.push({ ...data.categories[0], id: 999, name: "unseen" });
    assertInputError(await attempt(data, ["--fraction", "0.3"]), /leave 1 of 13 categories without an image \(ids 999\).*no annotation at all/);
  });

  it("a negative category id that is no category, and an annotation of an unknown image", async () => {
    const data = base();
    data.images[3]!["neg_category_ids"] = [1, 4242];
    assertInputError(await attempt(data, []), /lvis\.json: images\[3\]\.neg_category_ids\[1\]: no category with id 4242/);
    const orphan = base();
    orphan.annotations[5]!["image_id"] = 123456789;
    assertInputError(await attempt(orphan, ["--fraction", "0.3"]), /annotations\[5\]\.image_id: no image with id 123456789/);
  });

  it("missing fields, per format", async () => {
    const noUrl = base();
    delete noUrl.images[2]!["coco_url"];
    assertInputError(await attempt(noUrl, ["--format", "mdetr"]), /images\[2\]\.coco_url: missing/);
    const noInfo = base();
    delete (noInfo as { info?: unknown }).info;
    assertInputError(await attempt(noInfo, []), /info: missing \(a subset in LVIS format copies the file's info/);
    const noCount = base();
    delete noCount.categories[1]!["image_count"];
    assertInputError(await attempt(noCount, ["--fraction", "0.3"]), /categories\[1\]\.image_count: missing/);
    const noNegatives = base();
    delete noNegatives.images[0]!["neg_category_ids"];
    assertInputError(await attempt(noNegatives, []), /images\[0\]\.neg_category_ids: missing/);
  });

  it("a number out of range in a record the LVIS subset copies", async () => {
    const text = JSON.stringify(base()).replace(/"segmentation":\[\[([\d.]+),/, '"segmentation":[[1e400,');
    assertInputError(await attempt(text, []), /annotations\[0\]\.segmentation\[0\]\[0\]: expected a finite number/);
  });

  for (const [flag, value, pattern] of [
    ["--fraction", "0", /--fraction: expected a fraction greater than 0/],
    ["--fraction", "-0.1", /--fraction: expected a fraction greater than 0/],
    ["--fraction", "1e400", /--fraction: expected a fraction/],
    ["--fraction", "nan", /--fraction: expected a fraction/],
    ["--fraction", "0x1", /--fraction: expected a fraction/],
    ["--seed", "4.2", /--seed: expected an integer, got "4.2"/],
    ["--format", "coco", /--format: expected one of lvis, mdetr/],
  ] as const) {
    it(`${flag} ${value}`, async () => assertInputError(await attempt(base(), [flag, value]), pattern));
  }
});

describe("convert lvis: options and summary", () => {
  const golden = () => goldenCases("convert-lvis").find((c) => c.name === "small_f01_lvis_seed7")!;

  it("--fraction 1e0 is exactly 1: every image, no sampling", async () => {
    const dir = tempDir();
    const out = join(dir, "all.json");
    const run = await runCli(["convert", "lvis", "--annotations", "lvis_train.json", "--fraction", "1e0", "-o", out, "--json", "-"], { cwd: golden().dir });
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.equal(summary["sampled"], false);
    assert.equal(summary["reference_file"], "detection_lvis_train.json");
    const input = readJsonFile(join(golden().dir, "lvis_train.json")) as { images: unknown[]; annotations: unknown[] };
    const output = readJsonFile(out) as { images: unknown[]; annotations: unknown[]; licenses: unknown[] };
    assert.deepEqual(output.images, input.images);
    assert.deepEqual(output.annotations, input.annotations);
    assert.deepEqual(output.licenses, []);
  });

  it("--json names the protocol, every setting (a seed beyond 2^53 as its digits) and the input", async () => {
    const dir = tempDir();
    const big = String(2n ** 70n + 3n);
    const run = await runCli(["convert", "lvis", "--annotations", "lvis_train.json", "--fraction", "0.1", "--seed", big, "-o", join(dir, "o.json"), "--json", "-"], { cwd: golden().dir });
    assert.equal(run.code, 0, run.stderr);
    const json = JSON.parse(run.stdout) as { meta: { protocol: string; options: Record<string, unknown>; inputs: Record<string, { sha256: string }> } } & Record<string, unknown>;
    assert.deepEqual(json.meta.options, { fraction: 0.1, seed: big, format: "lvis" });
    assert.match(json.meta.protocol, /MDETR's balanced sampler .* seed 1180591620717411303427: int\(300 x 0.1\) = 30 images/);
    assert.match(json.meta.inputs["annotations"]!.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(json["images"], { kept: 30, total: 300 });
    assert.equal(json["reference_name"], "lvis10");
    // Another seed, other images (the seed is not ignored).
    const expected = golden().expected as { images: { id: number }[] };
    const picked = readJsonFile(join(dir, "o.json")) as { images: { id: number }[] };
    assert.notDeepEqual(picked.images.map((i) => i.id), expected.images.map((i) => i.id));
  });
});

describe("AtomicFile", () => {
  it("leaves nothing behind when the rename into place fails", async () => {
    const dir = tempDir();
    const target = join(dir, "target");
    mkdirSync(join(target, "inside"), { recursive: true });
    await assert.rejects(withAtomicFile(target, (out) => out.write("hi")));
    assert.deepEqual(readdirSync(dir), ["target"]);
  });

  it("writes strings and bytes in order, through the block and around it", async () => {
    const dir = tempDir();
    const target = join(dir, "out");
    const big = Buffer.alloc((1 << 20) + 5, 0x61);
    await withAtomicFile(target, (out) => {
      out.write("é");
      out.write(Buffer.from([0x62]));
      out.write(big);
      out.write("z".repeat(400_000));
    });
    const bytes = readFileSync(target);
    assert.equal(bytes.length, 2 + 1 + big.length + 400_000);
    assert.equal(bytes.subarray(0, 3).toString("utf8"), "éb");
    assert.equal(bytes.at(-1), 0x7a);
  });
});
