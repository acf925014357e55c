import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { bilinearAxis, PillowResampler, resizeBilinear, type RgbImage } from "../src/compat/pil.js";
import { fixtures, seeded } from "./helpers.js";

interface Case {
  in: [number, number];
  out: [number, number];
  rgb: string;
  resized: string;
}

/** Pillow's own results (test/fixtures/golden/README.md says how they were made). */
const pillow = JSON.parse(readFileSync(join(fixtures, "pil-resize.json"), "utf8")) as { pillow: string; cases: Case[] };

const bytes = (base64: string) => new Uint8Array(Buffer.from(base64, "base64"));

/** Deterministic noise: an RGB picture whose bytes are the top bytes of the seeded LCG's states. */
function noise(width: number, height: number, seed: number): RgbImage {
  const random = seeded(seed);
  const rgb = Uint8Array.from({ length: width * height * 3 }, () => Math.floor(random() * 256));
  return { width, height, rgb };
}

describe("Pillow's Image.resize(size, BILINEAR) (compat/pil.ts)", () => {
  for (const c of pillow.cases) {
    it(`${c.in.join("x")} -> ${c.out.join("x")}: Pillow ${pillow.pillow}'s bytes`, () => {
      const [w, h] = c.in;
      const [W, H] = c.out;
      const got = resizeBilinear({ width: w, height: h, rgb: bytes(c.rgb) }, W, H);
      assert.deepEqual([got.width, got.height], [W, H]);
      assert.deepEqual(got.rgb, bytes(c.resized));
    });
  }

  it("leaves a picture of the target size as it is", () => {
    for (const [w, h] of [[1, 1], [7, 3], [800, 13], [13, 800]] as const) {
      const image = noise(w, h, w * 31 + h);
      assert.deepEqual(resizeBilinear(image, w, h).rgb, image.rgb, `${w}x${h}`);
    }
  });

  it("keeps a constant picture constant, up, down, one axis, tall and 1-pixel", () => {
    const sizes: [number, number, number, number][] = [[640, 480, 1066, 800], [4000, 500, 1336, 167], [2666, 333, 1328, 166], [1, 1, 9, 4], [30, 1, 1, 1], [3, 400, 2, 150], [50, 40, 50, 97], [97, 61, 12, 61]];
    for (const [w, h, W, H] of sizes) {
      for (const value of [0, 1, 128, 254, 255]) {
        const image = { width: w, height: h, rgb: new Uint8Array(w * h * 3).fill(value) };
        const out = resizeBilinear(image, W, H).rgb;
        assert.ok(out.every((v) => v === value), `${w}x${h} -> ${W}x${H} of ${value}`);
      }
    }
  });

  it("writes the normalised planes of the same bytes, inside a padded tensor and nowhere else", () => {
    const image = noise(37, 23, 5);
    const [W, H] = [61, 40];
    const tables = [0, 1, 2].map((c) => Float32Array.from({ length: 256 }, (_, v) => (v / 255 - 0.4 - c / 10) / 0.25)) as [Float32Array, Float32Array, Float32Array];
    // A batch slot of 64 x 42 at offset 5: the picture in its top left corner, the rest untouched.
    const [width, height, offset] = [64, 42, 5];
    const data = new Float32Array(offset + 3 * width * height).fill(-99);
    new PillowResampler().resizeInto(image, W, H, { data, offset, pixelStep: 1, rowStep: width, channelStep: width * height, tables });
    const expected = resizeBilinear(image, W, H).rgb;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const got = data[offset + c * width * height + y * width + x]!;
          if (x < W && y < H) assert.equal(got, tables[c]![expected[3 * (y * W + x) + c]!], `(${c}, ${x}, ${y})`);
          else assert.equal(got, -99, `(${c}, ${x}, ${y}) is outside the picture`);
        }
      }
    }
    assert.ok(data.subarray(0, offset).every((v) => v === -99));
  });

  it("windows stay inside the axis and their weights sum to 1 in Pillow's fixed point", () => {
    for (const [from, to] of [[640, 1066], [4000, 1336], [500, 167], [7, 1], [1, 9], [333, 800]] as const) {
      const { first, taps, weights } = bilinearAxis(from, to);
      for (let i = 0; i < to; i++) {
        assert.ok(first[i]! >= 0 && first[i]! + taps <= from, `${from} -> ${to}: window ${i}`);
        const sum = weights.subarray(i * taps, (i + 1) * taps).reduce((s, w) => s + w, 0);
        assert.ok(Math.abs(sum - 2 ** 22) <= taps, `${from} -> ${to}: output ${i} sums to ${sum}`);
      }
    }
  });

  it("runs the sums of the axes' windows, each clipped, on random pictures of random sizes (an oracle without the kernels)", () => {
    const random = seeded(11);
    const size = () => 1 + Math.floor(random() ** 3 * 700);
    const resampler = new PillowResampler();
    for (let n = 0; n < 120; n++) {
      let [w, h, W, H] = [size(), size(), size(), size()];
      // Now and then a picture more than 100 times taller than wide, which Pillow resizes vertically first.
      if (n % 10 === 0) [w, h, H] = [1 + (n % 4), 450 + n, 30 + n];
      const image = noise(w, h, n);
      assert.deepEqual(resizeBilinear(image, W, H, resampler).rgb, sumsOfWindows(image, W, H), `${w}x${h} -> ${W}x${H}`);
    }
  });
});

/** Pillow's fixed-point sum of a window (`ss` from half, then clip8), written plainly. */
function windowSum(read: (t: number) => number, weights: Int32Array, at: number, taps: number): number {
  let sum = 1 << 21;
  for (let t = 0; t < taps; t++) sum += read(t) * weights[at + t]!;
  return Math.max(0, Math.min(255, sum >> 22));
}

/** Both passes of the resampler over all rows, one pixel at a time, from bilinearAxis's windows. */
function sumsOfWindows(image: RgbImage, W: number, H: number): Uint8Array {
  const { width: w, height: h, rgb } = image;
  const columns = bilinearAxis(w, W);
  const rows = bilinearAxis(h, H);
  const pixel = (data: Uint8Array, width: number, x: number, y: number, c: number) => data[3 * (y * width + x) + c]!;
  const tallFirst = h > w * 100 && H < h;
  // Along one axis: `along` true resizes the width, else the height.
  const pass = (data: Uint8Array, width: number, height: number, along: boolean): Uint8Array => {
    const { first, taps, weights } = along ? columns : rows;
    const [outW, outH] = along ? [W, height] : [width, H];
    const out = new Uint8Array(3 * outW * outH);
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) {
        const i = along ? x : y;
        for (let c = 0; c < 3; c++) {
          const read = (t: number) => (along ? pixel(data, width, first[i]! + t, y, c) : pixel(data, width, x, first[i]! + t, c));
          out[3 * (y * outW + x) + c] = windowSum(read, weights, i * taps, taps);
        }
      }
    }
    return out;
  };
  return tallFirst ? pass(pass(rgb, w, h, false), w, H, true) : pass(pass(rgb, w, h, true), W, h, false);
}
