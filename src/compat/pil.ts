/** PIL (Pillow) behaviours of `Image.convert("RGB")` that decide the pixels MDETR's models see. */

/** PIL's MULDIV255 (ImagingUtils.h): (a * b + 128) / 255, rounded as its integer arithmetic does. */
function mulDiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/** PIL's cmyk2rgb (Convert.c): each channel = (255 - K) - (C * (255 - K)) / 255. */
export function cmykToRgb(cmyk: Uint8Array): Uint8Array {
  const pixels = cmyk.length / 4;
  const rgb = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    const nk = 255 - cmyk[4 * p + 3]!;
    for (let c = 0; c < 3; c++) rgb[3 * p + c] = Math.max(0, Math.min(255, nk - mulDiv255(cmyk[4 * p + c]!, nk)));
  }
  return rgb;
}
