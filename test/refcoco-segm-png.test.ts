import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import sharp, { type Metadata } from "sharp";
import { assertInputError, metricsOf, runCli, tempDir, writeJson } from "./helpers.js";
import { rle } from "./support/masks.js";

// Masks are 2 high and 3 wide (not square, so a transposed decoding shows), foreground:
const PATTERN = ["110", "001"];
const H = 2;
const W = 3;
const isForeground = (i: number) => PATTERN[Math.floor(i / W)]![i % W] === "1";

/** Row-major pixels: `fg` for the pattern's foreground, `bg` elsewhere, `channels` samples each. */
function pixels<T extends Uint8Array | Uint16Array>(make: new (n: number) => T, channels: number, fg: readonly number[], bg: readonly number[]): T {
  const out = new make(H * W * channels);
  for (let i = 0; i < H * W; i++) out.set(isForeground(i) ? fg : bg, i * channels);
  return out;
}

const raw = (channels: 1 | 2 | 3 | 4) => ({ raw: { width: W, height: H, channels } });

/** Each kind of PNG the contract names, with what sharp's metadata must say it is. */
const KINDS: { name: string; png: () => Promise<Buffer>; is: (m: Metadata) => boolean }[] = [
  { name: "grey8-value1", png: () => sharp(pixels(Uint8Array, 1, [1], [0]), raw(1)).toColourspace("b-w").png().toBuffer(), is: (m) => m.channels === 1 && m.bitsPerSample === 8 },
  { name: "bit1", png: () => sharp(pixels(Uint8Array, 1, [255], [0]), raw(1)).toColourspace("b-w").png({ palette: false, colours: 2 }).toBuffer(), is: (m) => m.bitsPerSample === 1 && m.channels === 1 && !m.isPalette },
  // Two foreground colours and black, as a palette: index 0 is not necessarily black.
  { name: "palette", png: () => sharp(pixels(Uint8Array, 3, [0, 200, 0], [0, 0, 0]), raw(3)).png({ palette: true, colours: 4 }).toBuffer(), is: (m) => m.isPalette === true },
  // Alpha is ignored: the foreground is fully transparent, the background opaque.
  { name: "grey-alpha", png: () => sharp(pixels(Uint8Array, 2, [7, 0], [0, 255]), raw(2)).toColourspace("b-w").png().toBuffer(), is: (m) => m.channels === 2 && m.hasAlpha === true },
  { name: "rgba", png: () => sharp(pixels(Uint8Array, 4, [0, 0, 5, 0], [0, 0, 0, 255]), raw(4)).png().toBuffer(), is: (m) => m.channels === 4 && m.hasAlpha === true },
  { name: "rgb", png: () => sharp(pixels(Uint8Array, 3, [0, 1, 0], [0, 0, 0]), raw(3)).png().toBuffer(), is: (m) => m.channels === 3 && !m.isPalette },
  // A 16-bit mask of 0 and 1: scaled to 8 bits, its 1s would round to 0.
  { name: "grey16-value1", png: () => sharp(pixels(Uint16Array, 1, [1], [0]), raw(1)).toColourspace("grey16").png().toBuffer(), is: (m) => m.bitsPerSample === 16 && m.channels === 1 },
  { name: "rgb16-value1", png: () => sharp(pixels(Uint16Array, 3, [0, 0, 1], [0, 0, 0]), raw(3)).toColourspace("rgb16").png().toBuffer(), is: (m) => m.bitsPerSample === 16 && m.channels === 3 },
];

async function folderCase(extraFiles: Record<string, Buffer | string> = {}) {
  const dir = tempDir();
  const pred = join(dir, "pred");
  mkdirSync(pred);
  const images = KINDS.map((kind, k) => ({ id: k + 1, height: H, width: W, dataset_name: kind.name }));
  const annotations = KINDS.map((_, k) => ({ id: 100 + k, image_id: k + 1, segmentation: rle(PATTERN) }));
  // One more expression whose target is the pattern and whose PNG is all foreground: I = 3, U = 6.
  images.push({ id: 50, height: H, width: W, dataset_name: "half" });
  annotations.push({ id: 150, image_id: 50, segmentation: rle(PATTERN) });
  for (const [k, kind] of KINDS.entries()) {
    const png = await kind.png();
    assert.ok(kind.is(await sharp(png).metadata()), `${kind.name}: the test PNG is of its kind`);
    writeFileSync(join(pred, `${k + 1}.png`), png);
  }
  writeFileSync(join(pred, "50.png"), await sharp(Buffer.alloc(H * W, 1), raw(1)).toColourspace("b-w").png().toBuffer());
  for (const [name, content] of Object.entries(extraFiles)) writeFileSync(join(pred, name), content);
  const ann = writeJson(dir, "ann.json", { images, annotations });
  return { dir, pred, ann };
}

const evalFolder = (ann: string, pred: string, extra: string[] = []) => runCli(["eval", "refcoco", "--iou-type", "segm", "--annotations", ann, "--predictions", pred, ...extra]);

describe("eval refcoco --iou-type segm with a folder of PNG masks", () => {
  it("every PNG kind decodes to its foreground (any colour channel nonzero, alpha ignored, 16 bits kept)", async () => {
    // Other files, and PNGs named after no expression, are ignored.
    const { ann, pred } = await folderCase({ "notes.txt": "x", "999.png": "not even a PNG", "01.png": "nor this" });
    const run = await evalFolder(ann, pred, ["--json", "-"]);
    assert.equal(run.code, 0, run.stderr);
    const json = metricsOf(JSON.parse(run.stdout)) as Record<string, Record<string, number>>;
    for (const kind of KINDS) assert.equal(json[kind.name]!["mIoU"], 1, `${kind.name}: ${JSON.stringify(json[kind.name])}`);
    assert.deepEqual(json["half"], { mIoU: 0.5, oIoU: 0.5, "prec@0.5": 1, "prec@0.6": 0, "prec@0.7": 0, "prec@0.8": 0, "prec@0.9": 0, count: 1 });
    const meta = (JSON.parse(run.stdout) as { meta: { options: Record<string, unknown>; inputs: { predictions: { path: string; files: number; sha256: string } } } }).meta;
    assert.equal(meta.options["prediction_format"], "png-folder");
    assert.equal(meta.inputs.predictions.files, KINDS.length + 1, "the files read");
    assert.match(meta.inputs.predictions.sha256, /^[0-9a-f]{64}$/);
  });

  it("a PNG of another size (here transposed) is an error naming the file", async () => {
    const { ann, pred } = await folderCase();
    writeFileSync(join(pred, "1.png"), await sharp(Buffer.alloc(H * W), { raw: { width: H, height: W, channels: 1 } }).png().toBuffer());
    assertInputError(await evalFolder(ann, pred), /pred\/1\.png: the mask is 2 x 3 pixels \(width x height\), but expression 1's image is 3 x 2/);
  });

  it("a missing PNG is an error, or with --allow-missing an empty mask", async () => {
    const { ann, pred } = await folderCase();
    const { rmSync } = await import("node:fs");
    rmSync(join(pred, "50.png"));
    assertInputError(await evalFolder(ann, pred), /pred: no prediction for 1 of 9 expressions \(image ids 50\); pass --allow-missing/);
    const run = await evalFolder(ann, pred, ["--allow-missing", "--json", "-"]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((metricsOf(JSON.parse(run.stdout)) as Record<string, Record<string, number>>)["half"]!["mIoU"], 0);
  });

  it("a file that is not a PNG, or not an image, is an error naming it", async () => {
    const { ann, pred } = await folderCase();
    writeFileSync(join(pred, "2.png"), await sharp(Buffer.alloc(H * W * 3), raw(3)).jpeg().toBuffer());
    assertInputError(await evalFolder(ann, pred), /pred\/2\.png: not a PNG \(sharp reads it as jpeg\)/);
    writeFileSync(join(pred, "2.png"), "garbage");
    assertInputError(await evalFolder(ann, pred), /pred\/2\.png: cannot decode the PNG: /);
  });
});
