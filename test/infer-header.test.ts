import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import sharp from "sharp";
import { Tokenizer } from "tokenizers";
import { settingsDifferences } from "../src/formats/infer/jsonl.js";
import { assertInputError, fixtures, repoRoot, runCli, tempDir } from "./helpers.js";
import { tinyModel } from "./support/tiny-model.js";

const tokenizerFile = join(fixtures, "golden/infer/text_mdetr/tokenizer.json");
const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const version = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string }).version;
const lines = (path: string) => readFileSync(path, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

let dir: string;
let images: string;
let model: string;
let other: string;
let tokenizer: string;

before(async () => {
  dir = tempDir("mdetr-infer-header-");
  images = join(dir, "images");
  mkdirSync(images);
  const vocabulary = Tokenizer.fromFile(tokenizerFile);
  tokenizer = join(dir, "tokenizer.json");
  copyFileSync(tokenizerFile, tokenizer);
  model = join(dir, "mdetr.onnx");
  other = join(dir, "other.onnx");
  writeFileSync(model, tinyModel({ hotTokenIds: [vocabulary.tokenToId("cat")!] }));
  // Another model: the same contract, other weights.
  writeFileSync(other, tinyModel({ hotTokenIds: [vocabulary.tokenToId("Ġcouch")!] }));
  const colours = { "a.png": { r: 200, g: 30, b: 30 }, "b.png": { r: 20, g: 40, b: 220 }, "c.jpg": { r: 128, g: 128, b: 128 } };
  for (const [name, background] of Object.entries(colours)) {
    const image = sharp({ create: { width: 40, height: 30, channels: 3, background } });
    await (name.endsWith(".png") ? image.png() : image.jpeg()).toFile(join(images, name));
  }
});

function infer(args: string[], root = images) {
  return runCli(["infer", "dir", root, "--tokenizer", tokenizer, ...args]);
}

describe("infer dir --out: the header and --resume", () => {
  it("starts the JSONL with a header holding the settings, and keeps the image records as they were", async () => {
    const out = join(dir, "header.jsonl");
    const run = await infer(["--model", model, "--phrases", "cat, couch", "--out", out, "--json", join(dir, "header.json")]);
    assert.equal(run.code, 0, run.stderr);
    const [first, ...records] = lines(out);
    assert.deepEqual(first, {
      header: {
        tool: "mdetr",
        version,
        command: "infer dir",
        settings: {
          model: { path: model, sha256: sha256(model) },
          tokenizer: { path: tokenizer, sha256: sha256(tokenizer) },
          prompt: { mode: "phrases", phrases: ["cat", "couch"] },
          threshold: 0.7,
          token_threshold: 0.1,
          scoring: "mdetr",
          preprocessing: { short_side: 800, max_size: 1333, resize: "Pillow bilinear", exif: "applied", mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
          recursive: false,
        },
      },
    });
    assert.deepEqual(records.map((r) => r["file"]), ["a.png", "b.png", "c.jpg"]);
    for (const record of records) assert.deepEqual(Object.keys(record), ["file", "width", "height", "text", "detections"]);
    // The files are hashed from the bytes read, and recorded under the paths given.
    const meta = (JSON.parse(readFileSync(join(dir, "header.json"), "utf8")) as { meta: { inputs: Record<string, { path: string; sha256: string }> } }).meta;
    assert.deepEqual([meta.inputs["model"]?.path, meta.inputs["model"]?.sha256], [model, sha256(model)]);
    assert.deepEqual([meta.inputs["tokenizer"]?.path, meta.inputs["tokenizer"]?.sha256], [tokenizer, sha256(tokenizer)]);
  });

  it("--out - writes the header first too; --queries is in it as its file and hash", async () => {
    const csv = join(dir, "queries.csv");
    writeFileSync(csv, "image,text\na.png,a cat\n*.jpg,a couch\n");
    const run = await infer(["--model", model, "--queries", csv, "--out", "-", "--scoring", "sigmoid", "--threshold", "0.5"]);
    assert.equal(run.code, 0, run.stderr);
    const [first, ...records] = run.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { header?: { settings: Record<string, unknown> }; file?: string });
    assert.deepEqual(first?.header?.settings["prompt"], { mode: "queries", queries: { path: csv, sha256: sha256(csv) } });
    assert.deepEqual([first?.header?.settings["scoring"], first?.header?.settings["threshold"]], ["sigmoid", 0.5]);
    assert.deepEqual(records.map((r) => r.file), ["a.png", "c.jpg"]);
  });

  it("--json - takes stdout alone (no line per image), with meta naming the model's hash; --out - with it is refused", async () => {
    const run = await infer(["--model", model, "--text", "a cat", "--json", "-"]);
    assert.equal(run.code, 0, run.stderr);
    const json = JSON.parse(run.stdout) as { meta: { command: string; options: Record<string, unknown>; inputs: Record<string, { sha256: string }> }; images: number };
    assert.equal(json.meta.command, "infer dir");
    assert.equal(json.meta.inputs["model"]!.sha256, sha256(model));
    assert.equal(json.meta.inputs["tokenizer"]!.sha256, sha256(tokenizer));
    assert.equal(json.meta.options["scoring"], "mdetr");
    assert.equal(json.images, 3);
    assertInputError(await infer(["--model", model, "--text", "a cat", "--json", "-", "--out", "-"]), /--out - and --json - both write to stdout/);
  });

  it("meta names the tokenizer found next to the model, and leaves out the device and batch size", async () => {
    const golden = join(fixtures, "golden/infer/text_mdetr");
    const run = await runCli(["infer", "dir", images, "--model", join(golden, "model.onnx"), "--text", "a cat", "--batch-size", "2", "--json", "-"]);
    assert.equal(run.code, 0, run.stderr);
    const { meta } = JSON.parse(run.stdout) as { meta: { options: Record<string, unknown>; inputs: Record<string, { path: string; sha256: string }> } };
    assert.deepEqual(meta.inputs["tokenizer"], { path: join(golden, "tokenizer.json"), bytes: readFileSync(join(golden, "tokenizer.json")).length, sha256: sha256(join(golden, "tokenizer.json")) });
    assert.equal(meta.options["images"], images);
    assert.ok(!("batch_size" in meta.options) && !("device" in meta.options), JSON.stringify(meta.options));
  });

  it("--resume with the same settings skips the images done and writes no second header", async () => {
    const out = join(dir, "same.jsonl");
    assert.equal((await infer(["--model", model, "--text", "a cat", "--out", out])).code, 0);
    const written = readFileSync(out, "utf8").split("\n").filter(Boolean);
    writeFileSync(out, `${written.slice(0, 2).join("\n")}\n`);
    const run = await infer(["--model", model, "--text", "a cat", "--out", out, "--resume"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /--resume: 1 images already in/);
    const [first, ...records] = lines(out);
    assert.ok(first && "header" in first);
    assert.deepEqual(records.map((r) => r["file"]), ["a.png", "b.png", "c.jpg"]);
  });

  it("--resume of an empty or missing file starts afresh, header first", async () => {
    for (const content of [undefined, "", '{"header": {"tool": "md']) {
      const out = join(tempDir(), "fresh.jsonl");
      if (content !== undefined) writeFileSync(out, content);
      const run = await infer(["--model", model, "--text", "a cat", "--out", out, "--resume"]);
      assert.equal(run.code, 0, run.stderr);
      const [first, ...records] = lines(out);
      assert.ok(first && "header" in first, JSON.stringify(first));
      assert.equal(records.length, 3);
    }
  });

  describe("--resume refuses a file made with other settings, names them, and leaves the file as it is", () => {
    const cases: [string, string[], RegExp][] = [
      ["other phrases (and --coco)", ["--phrases", "remote control", "--coco", "results.json"], /--resume: .*made\.jsonl was made with other settings: prompt\.phrases \["cat","couch"\] vs \["remote control"\] \(use another --out, or drop --resume to start over\)/],
      ["another threshold", ["--phrases", "cat, couch", "--threshold", "0.5"], /other settings: threshold 0\.7 vs 0\.5 \(/],
      ["another model", ["--phrases", "cat, couch", "--model", "other"], /other settings: model .*mdetr\.onnx \(sha256 [0-9a-f]{12}\) vs .*other\.onnx \(sha256 [0-9a-f]{12}\) \(/],
      ["another prompt mode", ["--text", "a cat"], /other settings: prompt\.mode "phrases" vs "text"; prompt\.phrases \["cat","couch"\] vs \(none\); prompt\.text \(none\) vs "a cat"/],
    ];
    for (const [name, args, pattern] of cases) {
      it(name, async () => {
        const folder = tempDir();
        const out = join(folder, "made.jsonl");
        assert.equal((await infer(["--model", model, "--phrases", "cat, couch", "--out", out])).code, 0);
        // The last line torn, as an interrupted run leaves it: still refused, and not cut.
        writeFileSync(out, `${readFileSync(out, "utf8")}{"file": "d.p`);
        const before = readFileSync(out);
        const resolved = args.map((a) => (a === "results.json" ? join(folder, a) : a === "other" ? other : a));
        const run = await infer([...(resolved.includes("--model") ? [] : ["--model", model]), ...resolved, "--out", out, "--resume"]);
        assertInputError(run, pattern);
        assert.deepEqual(readFileSync(out), before);
        assert.ok(!existsSync(join(folder, "results.json")));
      });
    }

    it("a file without a header (an older mdetr's)", async () => {
      const out = join(dir, "older.jsonl");
      writeFileSync(out, `${JSON.stringify({ file: "a.png", width: 40, height: 30, text: "a cat", detections: [] })}\n`);
      const before = readFileSync(out);
      const run = await infer(["--model", model, "--text", "a cat", "--out", out, "--resume"]);
      assertInputError(run, /--resume: .*older\.jsonl has no header line with its settings .*\(use another --out, or drop --resume to start over\)/);
      assert.deepEqual(readFileSync(out), before);
    });
  });

  it("--resume reads the records back checked: a damaged line is an error naming it", async () => {
    const out = join(dir, "damaged.jsonl");
    assert.equal((await infer(["--model", model, "--text", "a cat", "--out", out])).code, 0);
    const written = readFileSync(out, "utf8").split("\n").filter(Boolean);
    const damaged: [string, RegExp][] = [
      ["not json", /damaged\.jsonl: line 2: not valid JSON/],
      [JSON.stringify({ file: "a.png", width: "wide", height: 30, text: "a cat", detections: [] }), /damaged\.jsonl: line 2: width: expected a finite number, got the string "wide"/],
      [JSON.stringify({ file: "a.png", width: 40, height: 30, text: "a cat", detections: [{ bbox: [1, 2, 3], score: 0.9, spans: [], phrase: "cat" }] }), /line 2: detections\[0\]\.bbox: expected 4 numbers/],
      [JSON.stringify({ file: "a.png", width: 40, height: 30, text: "a cat", detections: [{ bbox: [1, 2, 3, 4], score: 0.9, spans: [[0.5, 2]], phrase: "cat" }] }), /line 2: detections\[0\]\.spans\[0\]: expected \[begin, end\] integers/],
      [JSON.stringify({ file: 7, error: "unreadable" }), /line 2: file: expected a string, got 7/],
      [written[0]!, /line 2: a header after the first line/],
    ];
    for (const [line, pattern] of damaged) {
      writeFileSync(out, `${[written[0], line, ...written.slice(2)].join("\n")}\n`);
      const before = readFileSync(out);
      assertInputError(await infer(["--model", model, "--text", "a cat", "--out", out, "--resume"]), pattern);
      assert.deepEqual(readFileSync(out), before);
    }
  });

  describe("refuses with one line and exit 2", () => {
    it("an empty --queries file, or one with only its header", async () => {
      for (const content of ["", "image,text\n"]) {
        const csv = join(dir, "empty.csv");
        writeFileSync(csv, content);
        assertInputError(await infer(["--model", model, "--queries", csv]), /empty\.csv: no queries/);
      }
    });

    it("an empty images folder", async () => {
      const empty = join(tempDir(), "empty");
      mkdirSync(empty);
      assertInputError(await infer(["--model", model, "--text", "a cat"], empty), /empty: no images \(jpg, jpeg, png, webp, bmp, tif, tiff\); --recursive looks in subfolders/);
    });

    it("a folder holding no image (only in a subfolder, or none at all with --recursive)", async () => {
      const folder = join(tempDir(), "notes");
      mkdirSync(join(folder, "sub"), { recursive: true });
      writeFileSync(join(folder, "readme.txt"), "not an image");
      assertInputError(await infer(["--model", model, "--text", "a cat"], folder), /notes: no images \(.*\); --recursive looks in subfolders$/m);
      assertInputError(await infer(["--model", model, "--text", "a cat", "--recursive"], folder), /notes: no images \(jpg, jpeg, png, webp, bmp, tif, tiff\)$/m);
      copyFileSync(join(images, "a.png"), join(folder, "sub", "a.png"));
      assert.equal((await infer(["--model", model, "--text", "a cat", "--recursive"], folder)).code, 0);
    });
  });
});

describe("settingsDifferences", () => {
  it("compares leaves by stable JSON, and files by their hash wherever they were named from", () => {
    const settings = { model: { path: "m.onnx", sha256: "ab".repeat(32) }, prompt: { mode: "phrases", phrases: ["cat"] }, preprocessing: { mean: [1, 2], exif: "applied" } };
    const moved = { prompt: { phrases: ["cat"], mode: "phrases" }, preprocessing: { exif: "applied", mean: [1, 2] }, model: { sha256: "ab".repeat(32), path: "../models/m.onnx" } };
    assert.deepEqual(settingsDifferences(settings, moved), []);
    assert.deepEqual(settingsDifferences(settings, { ...settings, model: { path: "m.onnx", sha256: "cd".repeat(32) }, threshold: 0.5 }), [
      `model m.onnx (sha256 ${"ab".repeat(6)}) vs m.onnx (sha256 ${"cd".repeat(6)})`,
      "threshold (none) vs 0.5",
    ]);
  });
});
