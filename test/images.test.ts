import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import sharp from "sharp";
import { readFileSync } from "node:fs";
import { PillowResampler } from "../src/compat/pil.js";
import { decodeImage, mayBeCmyk, prepareFile } from "../src/inference/images.js";
import { spansOfTokens } from "../src/inference/postprocess.js";
import { fixtures, tempDir } from "./helpers.js";

const channelMeans = (rgb: Uint8Array) => [0, 1, 2].map((c) => rgb.filter((_, i) => i % 3 === c).reduce((s, v) => s + v, 0) / (rgb.length / 3));

describe("image preparation as PIL's convert('RGB')", () => {
  it("keeps the colour of transparent pixels (PIL drops alpha; it does not premultiply)", async () => {
    const file = join(tempDir(), "transparent.png");
    await sharp({ create: { width: 40, height: 30, channels: 4, background: { r: 200, g: 30, b: 30, alpha: 0 } } }).png().toFile(file);
    const image = await decodeImage(file);
    assert.deepEqual(channelMeans(image.rgb).map(Math.round), [200, 30, 30]);
  });

  for (const name of ["rgb24.bmp", "palette8.bmp"]) {
    it(`decodes ${name} with Pillow's colours`, async () => {
      const image = await decodeImage(join(fixtures, "images", name));
      // Pixel (5, 3) is (14, 4, 24), pixel (0, 0) is (200, 100, 50).
      assert.deepEqual([image.width, image.height], [6, 4]);
      const rgb = image.rgb;
      assert.deepEqual([...rgb.subarray(0, 3)], [200, 100, 50]);
      assert.deepEqual([...rgb.subarray(3 * 23, 3 * 24)], [14, 4, 24]);
    });
  }

  it("decodes greyscale BMPs to equal channels", async () => {
    const image = await decodeImage(join(fixtures, "images", "grey8.bmp"));
    assert.deepEqual([...image.rgb.subarray(0, 3)], [124, 124, 124]);
    assert.deepEqual([...image.rgb.subarray(3 * 23, 3 * 24)], [9, 9, 9]);
  });
});

describe("which files are asked for their colour space (mayBeCmyk)", () => {
  it("CMYK JPEGs and TIFFs (and what cannot be told) yes; RGB and grey JPEGs, PNG, WebP no", async () => {
    const golden = join(fixtures, "golden/infer/text_mdetr/images");
    const read = (name: string) => readFileSync(join(golden, name));
    assert.equal(mayBeCmyk(read("cmyk_500x400.jpg")), true);
    for (const name of ["portrait_480x640.jpg", "grey_300x300.jpg", "exif6_480x640.jpg", "palette_256x192.png", "lossy_400x300.webp"]) assert.equal(mayBeCmyk(read(name)), false, name);
    const tiff = await sharp({ create: { width: 4, height: 4, channels: 3, background: "#808080" } }).tiff().toBuffer();
    assert.equal(mayBeCmyk(tiff), true);
    assert.equal(mayBeCmyk(read("not_an_image.jpg")), true);
  });
});

describe("spans of tokens that share a character", () => {
  it("joins byte-level pieces of one character instead of repeating it", () => {
    const prompt = { text: "猫 cat", ids: [0, 1, 2, 3, 2], offsets: [[0, 0], [0, 1], [0, 1], [2, 5], [0, 0]] as [number, number][], special: [true, false, false, false, true] };
    assert.deepEqual(spansOfTokens(prompt, [1, 2, 3]), { spans: [[0, 5]], phrase: "猫 cat" });
    assert.deepEqual(spansOfTokens(prompt, [1, 2]), { spans: [[0, 1]], phrase: "猫" });
  });
});

describe("EXIF orientation", () => {
  it("applied for people's photos (infer dir), not for benchmark pictures (stored pixels, as MDETR's datasets decode them)", async () => {
    const file = join(tempDir(), "rotated.jpg");
    // Stored 120 wide and 80 high, EXIF orientation 6: shown 80 wide and 120 high.
    await sharp({ create: { width: 120, height: 80, channels: 3, background: { r: 10, g: 200, b: 30 } } }).jpeg().withMetadata({ orientation: 6 }).toFile(file);
    const shown = (await prepareFile(file, true, new PillowResampler(), undefined)).image;
    assert.deepEqual([shown.width, shown.height, shown.resized.width, shown.resized.height], [80, 120, 800, 1200]);
    const stored = (await prepareFile(file, false, new PillowResampler(), undefined)).image;
    assert.deepEqual([stored.width, stored.height, stored.resized.width, stored.resized.height], [120, 80, 1200, 800]);
  });
});
