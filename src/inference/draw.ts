/**
 * Pictures of the detections: each box outlined and labelled with its phrase and score, drawn as
 * an SVG overlay composited by sharp. Labels are white on a filled band of the box's colour with
 * a dark outline, so they read on dark and light images alike.
 */
import { mkdir, readFile } from "node:fs/promises";
import { dirname, extname, join } from "node:path";
import sharp, { type Sharp } from "sharp";
import { decodeBmpRgb, isBmp } from "./images.js";
import type { Detection } from "./postprocess.js";

const COLOURS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324", "#800000", "#000075"];

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function overlaySvg(width: number, height: number, detections: readonly Detection[]): string {
  const line = Math.max(2, Math.round(Math.min(width, height) / 250));
  const font = Math.max(12, Math.round(Math.min(width, height) / 35));
  const shapes = detections.map((d, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const [x1, y1, x2, y2] = d.bbox.map((v) => Math.round(v * 10) / 10) as [number, number, number, number];
    const label = escapeXml(`${d.phrase || "?"} ${d.score.toFixed(2)}`);
    // DejaVu Sans averages about 0.63 em a character; leave room for the outline.
    const labelWidth = Math.round(font * 0.7 * ((d.phrase || "?").length + 5)) + 8;
    const top = y1 - font - 6 >= 0 ? y1 - font - 6 : y1;
    return [
      `<rect x="${x1}" y="${y1}" width="${Math.max(0, x2 - x1)}" height="${Math.max(0, y2 - y1)}" fill="none" stroke="#000" stroke-opacity="0.6" stroke-width="${line + 2}"/>`,
      `<rect x="${x1}" y="${y1}" width="${Math.max(0, x2 - x1)}" height="${Math.max(0, y2 - y1)}" fill="none" stroke="${colour}" stroke-width="${line}"/>`,
      `<rect x="${x1}" y="${top}" width="${labelWidth}" height="${font + 6}" fill="${colour}" fill-opacity="0.85" stroke="#000" stroke-opacity="0.6"/>`,
      `<text x="${x1 + 4}" y="${top + font}" font-family="DejaVu Sans, Arial, sans-serif" font-size="${font}" fill="#fff" stroke="#000" stroke-width="${Math.max(1, font / 12)}" paint-order="stroke">${label}</text>`,
    ].join("");
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes.join("")}</svg>`;
}

/** Where a drawing goes: the same relative path; BMP and TIFF get ".png" appended (x.bmp.png). */
export function drawingPath(folder: string, relative: string): string {
  const extension = extname(relative).toLowerCase();
  return join(folder, [".bmp", ".tif", ".tiff"].includes(extension) ? `${relative}.png` : relative);
}

/** Writes the drawing of one image, oriented as the boxes are. */
export async function drawDetections(source: string, relative: string, folder: string, width: number, height: number, detections: readonly Detection[]): Promise<string> {
  const target = drawingPath(folder, relative);
  await mkdir(dirname(target), { recursive: true });
  const bytes = await readFile(source);
  let base: Sharp;
  if (isBmp(bytes)) {
    const bmp = decodeBmpRgb(bytes);
    base = sharp(bmp.rgb, { raw: { width: bmp.width, height: bmp.height, channels: 3 } });
  } else base = sharp(bytes, { failOn: "error" }).rotate();
  await base.composite([{ input: Buffer.from(overlaySvg(width, height, detections)), top: 0, left: 0 }]).toFile(target);
  return target;
}
