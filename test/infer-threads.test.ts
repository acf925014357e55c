import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import sharp from "sharp";
import { Tokenizer } from "tokenizers";
import { openPreparer } from "../src/inference/prepare-pool.js";
import { fixtures, runCli, tempDir } from "./helpers.js";
import { tinyModel } from "./support/tiny-model.js";

let dir: string;
let images: string;

before(async () => {
  dir = tempDir("mdetr-infer-threads-");
  images = join(dir, "images");
  mkdirSync(images);
  const tokenizerFile = join(fixtures, "golden/infer/text_mdetr/tokenizer.json");
  copyFileSync(tokenizerFile, join(dir, "tokenizer.json"));
  writeFileSync(join(dir, "model.onnx"), tinyModel({ hotTokenIds: [Tokenizer.fromFile(tokenizerFile).tokenToId("Ġcat")!] }));
  // Pictures of several sizes in an order that makes a reused buffer too small now and then, and
  // unreadable files among them.
  const sizes = [[640, 480], [30, 20], [480, 640], [1000, 800], [333, 500], [64, 48], [800, 600], [50, 70], [640, 480], [120, 90]] as const;
  for (const [i, [w, h]] of sizes.entries()) {
    const noise = Buffer.from(Array.from({ length: 8 * 6 * 3 }, (_, k) => (k * 37 + i * 91) % 256));
    await sharp(noise, { raw: { width: 8, height: 6, channels: 3 } }).resize(w, h, { kernel: "cubic" }).jpeg({ quality: 90 }).toFile(join(images, `p${i}.jpg`));
  }
  writeFileSync(join(images, "p3b.jpg"), "not an image");
  const jpeg = readFileSync(join(images, "p2.jpg"));
  writeFileSync(join(images, "p6b.jpg"), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
});

async function infer(extra: string[]) {
  const out = join(tempDir(), "out.jsonl");
  const run = await runCli(["infer", "dir", images, "--model", join(dir, "model.onnx"), "--text", "a cat", "--threshold", "0", "--out", out, ...extra]);
  return { ...run, lines: readFileSync(out, "utf8") };
}

describe("infer dir --image-threads", () => {
  it("writes the same file, byte for byte, with the pictures prepared in threads or not", async () => {
    // (A batch size changes the model's sums in the last digits: compare at one batch size.)
    for (const batch of ["1", "3"]) {
      const here = await infer(["--image-threads", "0", "--batch-size", batch]);
      assert.equal(here.code, 0, here.stderr);
      for (const threads of ["1", "2"]) {
        const run = await infer(["--image-threads", threads, "--batch-size", batch]);
        assert.equal(run.code, 0, run.stderr);
        assert.equal(run.lines, here.lines, `--image-threads ${threads} --batch-size ${batch}`);
        // The unreadable files are named in the warnings, with their reasons.
        assert.match(run.stderr, /p3b\.jpg: skipped: .*unsupported image format/);
        assert.match(run.stderr, /p6b\.jpg: skipped: .*premature end/i);
        assert.match(run.stderr, /10 images done on cpu/);
      }
      const files = here.lines.split("\n").filter(Boolean).map((l) => (JSON.parse(l) as { file?: string }).file).filter(Boolean);
      assert.deepEqual(files, [...files].sort());
    }
  });

  it("stops at the first unreadable image under --strict, threads or not", async () => {
    for (const threads of ["0", "2"]) {
      const run = await runCli(["infer", "dir", images, "--model", join(dir, "model.onnx"), "--text", "a cat", "--out", join(tempDir(), "o.jsonl"), "--strict", "--image-threads", threads]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /p3b\.jpg: cannot read the image/);
    }
  });

  it("refuses a count that is not 0 to 64", async () => {
    const run = await runCli(["infer", "dir", images, "--model", join(dir, "model.onnx"), "--text", "a cat", "--image-threads", "-1"]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--image-threads/);
  });
});

describe("the image threads (prepare-pool.ts)", () => {
  it("give a picture's planes and an unreadable file's reason as this thread does", async () => {
    const [here, pool] = [openPreparer(0), openPreparer(1)];
    try {
      for (const file of ["p0.jpg", "p1.jpg", "p4.jpg"]) {
        const [a, b] = await Promise.all([here.prepare(join(images, file), true), pool.prepare(join(images, file), true)]);
        assert.deepEqual([b.width, b.height, b.resized.width, b.resized.height], [a.width, a.height, a.resized.width, a.resized.height]);
        assert.ok(b.resized.planes.every((v, i) => v === a.resized.planes[i]), file);
        here.release(a);
        pool.release(b);
      }
      for (const file of ["p3b.jpg", "p6b.jpg", "missing.jpg"]) {
        const reason = (p: Promise<unknown>) => p.then(() => "read", (error: Error) => error.message);
        assert.equal(await reason(pool.prepare(join(images, file), true, true)), await reason(here.prepare(join(images, file), true, true)), file);
      }
    } finally {
      await Promise.all([here.close(), pool.close()]);
    }
  });
});
