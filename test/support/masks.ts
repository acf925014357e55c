/** Masks for tests, drawn as rows of "0" / "1" (top row first). */
import { encodeMask } from "../../src/compat/coco-mask/rle.js";
import { rleToString } from "../../src/compat/coco-mask/rle-string.js";

/** The compressed COCO RLE of a drawn mask: column-major (pixel (x, y) at x * h + y), as COCO keeps it. */
export function rle(rows: readonly string[]): { size: [number, number]; counts: string } {
  const h = rows.length;
  const w = rows[0]!.length;
  const mask = new Uint8Array(h * w);
  rows.forEach((row, y) => [...row].forEach((c, x) => (mask[x * h + y] = c === "1" ? 1 : 0)));
  return { size: [h, w], counts: rleToString(encodeMask(mask, h, w).counts) };
}
