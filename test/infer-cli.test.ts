import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import sharp from "sharp";
import { Tokenizer } from "tokenizers";
import { fixtures, goldenCases, repoRoot, runCli, tempDir } from "./helpers.js";
import { BOX_BIAS, BOX_SCALE, POSITION_BIAS, TOKEN_GAIN, sigmoid, tinyModel, uniformImageFeature } from "./support/tiny-model.js";

interface Record_ {
  file: string;
  width?: number;
  height?: number;
  text?: string;
  error?: string;
  detections?: { bbox: number[]; score: number; spans: number[][]; phrase: string }[];
}

/** The image records (the header line, first, has no `file`). */
const readJsonl = (path: string): Record_[] => readFileSync(path, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record_).filter((r) => "file" in r);
const tokenizerFile = join(fixtures, "golden/infer/text_mdetr/tokenizer.json");

let dir: string;
let images: string;
const colours: Record<string, [number, number, number]> = { "red.png": [200, 30, 30], "blue.jpg": [20, 40, 220], "grey.png": [128, 128, 128] };

before(async () => {
  dir = tempDir("mdetr-infer-");
  images = join(dir, "images");
  mkdirSync(images);
  const tokenizer = Tokenizer.fromFile(tokenizerFile);
  const hot = [tokenizer.tokenToId("Ġcat")!, tokenizer.tokenToId("cat")!];
  copyFileSync(tokenizerFile, join(dir, "tokenizer.json"));
  writeFileSync(join(dir, "mdetr.onnx"), tinyModel({ hotTokenIds: hot }));
  writeFileSync(join(dir, "gdino.onnx"), tinyModel({ hotTokenIds: hot, logitsName: "logits", pixelMask: false, tokenTypeIds: true }));
  writeFileSync(join(dir, "wrong.onnx"), tinyModel({ hotTokenIds: hot, renameInput: ["pixel_values", "images"] }));
  // Uniform images: the model's image feature is then known exactly, whatever the resizing.
  await sharp({ create: { width: 300, height: 200, channels: 3, background: { r: 200, g: 30, b: 30 } } }).png().toFile(join(images, "red.png"));
  await sharp({ create: { width: 200, height: 300, channels: 3, background: { r: 20, g: 40, b: 220 } } }).jpeg({ quality: 100, chromaSubsampling: "4:4:4" }).toFile(join(images, "blue.jpg"));
  await sharp({ create: { width: 64, height: 40, channels: 4, background: { r: 128, g: 128, b: 128, alpha: 0.5 } } }).png().toFile(join(images, "grey.png"));
  // Stored 120 wide and 80 high, EXIF orientation 6: shown 80 wide and 120 high.
  await sharp({ create: { width: 120, height: 80, channels: 3, background: { r: 128, g: 128, b: 128 } } }).jpeg().withMetadata({ orientation: 6 }).toFile(join(images, "rotated.jpg"));
  writeFileSync(join(images, "broken.jpg"), "this is not an image");
  const jpeg = readFileSync(join(images, "blue.jpg"));
  writeFileSync(join(images, "truncated.jpg"), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
});

async function infer(args: string[]) {
  return await runCli(["infer", "dir", images, "--tokenizer", join(dir, "tokenizer.json"), ...args]);
}

/** What the formula of test/support/tiny-model.ts gives for query q on a uniform image. */
function expectedBox(q: number, rgb: [number, number, number], width: number, height: number): number[] {
  const m = uniformImageFeature(rgb);
  const [cx, cy, w, h] = BOX_BIAS[q]!.map((b) => sigmoid(m * BOX_SCALE[q]! + b)) as [number, number, number, number];
  return [(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height];
}

describe("mdetr infer dir", () => {
  it("runs the golden case (an independent numpy/PIL implementation) within its tolerances", async () => {
    const golden = goldenCases("infer").find((c) => c.name === "text_mdetr")!;
    const out = join(tempDir(), "out.jsonl");
    const run = await runCli(golden.argv.map((a) => a.replace("{out}", out)), { cwd: golden.dir });
    assert.equal(run.code, 0, run.stderr);
    const expected = golden.expected as Record_[];
    const got = new Map(readJsonl(out).map((r) => [r.file, r]));
    for (const e of expected) {
      const g = got.get(e.file)!;
      assert.ok(g && !g.error, `${e.file}: ${JSON.stringify(g)}`);
      assert.deepEqual([g.width, g.height], [e.width, e.height], e.file);
      assert.equal(g.detections!.length, e.detections!.length, e.file);
      const left = [...g.detections!];
      for (const d of e.detections!) {
        const distance = (x: { bbox: number[] }) => Math.max(...x.bbox.map((v, i) => Math.abs(v - d.bbox[i]!)));
        const match = left.reduce((best, x) => (distance(x) < distance(best) ? x : best));
        assert.ok(distance(match) <= 1.5, `${e.file}: box off by ${distance(match)}`);
        assert.ok(Math.abs(match.score - d.score) <= 2e-3, `${e.file}: score ${match.score} vs ${d.score}`);
        assert.deepEqual([match.spans, match.phrase], [d.spans, d.phrase], e.file);
        left.splice(left.indexOf(match), 1);
      }
    }
    for (const name of ["truncated.jpg", "not_an_image.jpg"]) assert.ok(got.get(name)?.error, `${name} is recorded as unreadable`);
  });

  it("scales boxes to the original size, applies EXIF orientation, and scores as MDETR does", async () => {
    const out = join(dir, "all.jsonl");
    const run = await infer(["--model", join(dir, "mdetr.onnx"), "--text", "a cat on a mat", "--threshold", "0", "--out", out]);
    assert.equal(run.code, 0, run.stderr);
    const records = new Map(readJsonl(out).map((r) => [r.file, r]));
    assert.deepEqual([records.get("rotated.jpg")!.width, records.get("rotated.jpg")!.height], [80, 120]);
    for (const [file, rgb] of Object.entries(colours)) {
      const record = records.get(file)!;
      assert.equal(record.detections!.length, 3, file);
      for (let q = 0; q < 3; q++) {
        // The query's box is the only one with its centre and size; find it by box.
        const expected = expectedBox(q, rgb, record.width!, record.height!);
        const found = record.detections!.find((d) => d.bbox.every((v, i) => Math.abs(v - expected[i]!) < 0.5));
        assert.ok(found, `${file} query ${q}: expected ${expected}, got ${JSON.stringify(record.detections!.map((d) => d.bbox))}`);
      }
      // Query 0 follows the "cat" token: 1 - P(no object), spans on "cat".
      const cat = record.detections!.find((d) => d.phrase === "cat")!;
      const e = Math.exp;
      const noObject = POSITION_BIAS.at(-1)!;
      // <s> a Ġcat Ġon Ġa Ġmat </s>: 7 tokens; pads and the other tokens have logit 0 (+ image).
      const expectedScore = 1 - e(noObject) / (e(TOKEN_GAIN[0]!) + e(noObject) + (POSITION_BIAS.length - 2));
      assert.ok(Math.abs(cat.score - expectedScore) < 1e-5, `${cat.score} vs ${expectedScore}`);
      assert.deepEqual(cat.spans, [[2, 5]]);
    }
  });

  it("gives the same results whatever the batch size (padding is masked)", async () => {
    const one = join(dir, "b1.jsonl");
    const three = join(dir, "b3.jsonl");
    assert.equal((await infer(["--model", join(dir, "mdetr.onnx"), "--text", "a cat", "--threshold", "0", "--out", one])).code, 0);
    assert.equal((await infer(["--model", join(dir, "mdetr.onnx"), "--text", "a cat", "--threshold", "0", "--out", three, "--batch-size", "3"])).code, 0);
    const strip = (records: Record_[]) => records.map((r) => ({ ...r, detections: r.detections?.map((d) => ({ ...d, bbox: d.bbox.map((v) => v.toFixed(3)), score: d.score.toFixed(5) })) }));
    assert.deepEqual(strip(readJsonl(three)), strip(readJsonl(one)));
  });

  it("records unreadable images, goes on and exits 0; --strict stops with exit 2", async () => {
    const out = join(dir, "errors.jsonl");
    const run = await infer(["--model", join(dir, "mdetr.onnx"), "--text", "a cat", "--out", out]);
    assert.equal(run.code, 0, run.stderr);
    const records = new Map(readJsonl(out).map((r) => [r.file, r]));
    assert.match(records.get("broken.jpg")!.error!, /unsupported image format/);
    assert.match(records.get("truncated.jpg")!.error!, /premature end/i);
    assert.match(run.stderr, /4 images done on cpu/);
    assert.match(run.stderr, /2 unreadable, skipped/);
    const strict = await infer(["--model", join(dir, "mdetr.onnx"), "--text", "a cat", "--out", join(dir, "strict.jsonl"), "--strict"]);
    assert.equal(strict.code, 2);
    assert.match(strict.stderr, /broken\.jpg: cannot read the image/);
  });

  it("--resume skips images already written and completes a torn last line", async () => {
    const out = join(dir, "resume.jsonl");
    assert.equal((await infer(["--model", join(dir, "mdetr.onnx"), "--text", "a cat", "--out", out])).code, 0);
    const lines = readFileSync(out, "utf8").split("\n").filter(Boolean);
    // The header and two images, then a torn line.
    writeFileSync(out, `${lines.slice(0, 3).join("\n")}\n${lines[3]!.slice(0, 10)}`);
    const run = await infer(["--model", join(dir, "mdetr.onnx"), "--text", "a cat", "--out", out, "--resume"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /--resume: 2 images already in/);
    const files = readJsonl(out).map((r) => r.file);
    assert.deepEqual([...files].sort(), ["blue.jpg", "broken.jpg", "grey.png", "red.png", "rotated.jpg", "truncated.jpg"]);
  });

  it("sigmoid models without pixel_mask (Grounding DINO exports) run one image at a time", async () => {
    const out = join(dir, "gdino.jsonl");
    // Every token's sigmoid is about 0.5 here, so a token threshold of 0.9 keeps only "cat".
    const run = await infer(["--model", join(dir, "gdino.onnx"), "--text", "a cat", "--out", out, "--batch-size", "4", "--token-threshold", "0.9"]);
    assert.equal(run.code, 0, run.stderr);
    const red = readJsonl(out).find((r) => r.file === "red.png")!;
    // Only query 0 passes 0.7: the best token's sigmoid, on "cat".
    assert.equal(red.detections!.length, 1);
    const m = uniformImageFeature(colours["red.png"]!);
    assert.ok(Math.abs(red.detections![0]!.score - sigmoid(TOKEN_GAIN[0]! + 0.25 * m)) < 1e-5);
    assert.equal(red.detections![0]!.phrase, "cat");
  });

  it("--phrases prompts GLIP-style and labels boxes with a phrase; --coco and --draw write their files", async () => {
    const out = join(dir, "phrases.jsonl");
    const coco = join(dir, "results.json");
    const drawn = join(dir, "drawn");
    const run = await infer(["--model", join(dir, "mdetr.onnx"), "--phrases", "cat, mat", "--out", out, "--coco", coco, "--draw", drawn]);
    assert.equal(run.code, 0, run.stderr);
    const red = readJsonl(out).find((r) => r.file === "red.png")!;
    assert.equal(red.text, "cat. mat.");
    assert.deepEqual(red.detections!.map((d) => d.phrase), ["cat"]);
    const results = JSON.parse(readFileSync(coco, "utf8")) as { image_id: number; category_id: number; bbox: number[] }[];
    const mapping = JSON.parse(readFileSync(join(dir, "results.images.json"), "utf8")) as { images: { id: number; file_name: string }[]; categories: { id: number; name: string }[] };
    assert.deepEqual(mapping.categories, [{ id: 1, name: "cat" }, { id: 2, name: "mat" }]);
    const redId = mapping.images.find((i) => i.file_name === "red.png")!.id;
    assert.deepEqual(results.filter((r) => r.image_id === redId).map((r) => r.category_id), [1]);
    assert.ok(existsSync(join(drawn, "red.png")) && existsSync(join(drawn, "rotated.jpg")));
  });

  it("--queries gives each image its own prompt (globs allowed)", async () => {
    const csv = join(dir, "queries.csv");
    writeFileSync(csv, "image,text\nred.png,a red cat\n*.jpg,a blue thing\n");
    const out = join(dir, "queries.jsonl");
    const run = await infer(["--model", join(dir, "mdetr.onnx"), "--queries", csv, "--out", out]);
    assert.equal(run.code, 0, run.stderr);
    const texts = Object.fromEntries(readJsonl(out).map((r) => [r.file, r.text ?? r.error]));
    assert.equal(texts["red.png"], "a red cat");
    assert.equal(texts["rotated.jpg"], "a blue thing");
    assert.equal(texts["grey.png"], undefined);
  });

  it("--resume with --coco covers the images of the earlier run too", async () => {
    const out = join(dir, "resume-coco.jsonl");
    assert.equal((await infer(["--model", join(dir, "mdetr.onnx"), "--text", "a cat", "--out", out])).code, 0);
    const lines = readFileSync(out, "utf8").split("\n").filter(Boolean);
    // The header and three images.
    writeFileSync(out, `${lines.slice(0, 4).join("\n")}\n`);
    const coco = join(dir, "resume-coco.json");
    assert.equal((await infer(["--model", join(dir, "mdetr.onnx"), "--text", "a cat", "--out", out, "--resume", "--coco", coco])).code, 0);
    const mapping = JSON.parse(readFileSync(join(dir, "resume-coco.images.json"), "utf8")) as { images: { file_name: string }[] };
    assert.deepEqual(mapping.images.map((i) => i.file_name), ["blue.jpg", "grey.png", "red.png", "rotated.jpg"]);
  });

  it("--queries paths are normalised, and must stay inside the folder and exist", async () => {
    const csv = join(dir, "paths.csv");
    writeFileSync(csv, "image,text\n./red.png,first\nred.png,second\n");
    const out = join(dir, "paths.jsonl");
    assert.equal((await infer(["--model", join(dir, "mdetr.onnx"), "--queries", csv, "--out", out])).code, 0);
    assert.deepEqual(readJsonl(out).map((r) => [r.file, r.text]), [["red.png", "second"]]);
    for (const [row, pattern] of [["../red.png", /line 2: \.\.\/red\.png is outside/], ["nope.png", /line 2: nope\.png matches no image in/]] as const) {
      writeFileSync(csv, `image,text\n${row},a cat\n`);
      const run = await infer(["--model", join(dir, "mdetr.onnx"), "--queries", csv]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, pattern);
    }
  });

  describe("refuses with one line and exit 2", () => {
    const cases: [string, () => string[], RegExp][] = [
      ["a model with other inputs", () => ["--model", join(dir, "wrong.onnx"), "--text", "a cat"], /wrong\.onnx: not a grounding model of the expected contract: expected inputs pixel_values, .*; found inputs images, pixel_mask, input_ids, attention_mask/],
      ["a missing model", () => ["--model", join(dir, "nope.onnx"), "--text", "a cat"], /--model .*nope\.onnx: no such file/],
      ["a prompt longer than the model takes", () => ["--model", join(dir, "mdetr.onnx"), "--text", "a cat on a mat next to a dog under a table by the door"], /the prompt is \d+ tokens long; this model takes at most 11/],
      ["--device cuda without the CUDA provider", () => ["--model", join(dir, "mdetr.onnx"), "--text", "a cat", "--device", "cuda"], /--device cuda: cannot start: the CUDA provider of onnxruntime-node is not installed/],
      ["two prompt options", () => ["--model", join(dir, "mdetr.onnx"), "--text", "a cat", "--phrases", "cat"], /give exactly one of --text, --phrases, --queries/],
      ["--coco -", () => ["--model", join(dir, "mdetr.onnx"), "--text", "a cat", "--coco", "-"], /--coco needs a file name/],
      ["--draw into the images folder", () => ["--model", join(dir, "mdetr.onnx"), "--text", "a cat", "--draw", images], /--draw: give another folder than the images' own/],
    ];
    // Where the CUDA provider has been installed (README: GPU inference), --device cuda can start.
    const cudaInstalled = readdirSync(join(repoRoot, "node_modules/onnxruntime-node/bin/napi-v6", process.platform, process.arch)).some((f) => f.startsWith("libonnxruntime_providers_cuda"));
    for (const [name, args, pattern] of cases) {
      it(name, { skip: cudaInstalled && name.includes("CUDA") ? "the CUDA provider is installed here" : false }, async () => {
        const run = await infer(args());
        assert.equal(run.code, 2, run.stderr);
        assert.match(run.stderr, pattern);
        assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
      });
    }

    it("a missing tokenizer", async () => {
      const alone = join(tempDir(), "model.onnx");
      copyFileSync(join(dir, "mdetr.onnx"), alone);
      const run = await runCli(["infer", "dir", images, "--model", alone, "--text", "a cat"]);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /no tokenizer\.json next to the model/);
    });
  });
});
