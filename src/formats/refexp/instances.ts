/**
 * The masks of COCO's instances file (`instances_train2014.json`, about 450 MB) that referring
 * expressions point at (by their annotations' `original_id`), with their images' sizes, as
 * cocoapi's `COCO.annToRLE` needs them. Of its 600k annotations a RefCOCO split uses a few
 * thousand, so the file is streamed and only those are kept. With the split engine the polygons
 * are checked but not parsed (most of the file's bytes), and the wanted annotations are parsed
 * afterwards from their places in the file; other engines parse everything.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { InputError, childPath } from "../../core/errors.js";
import { expectArrayContainer, readJson, statInput, type JsonReadResult, type JsonReadSettings } from "../../json/reader.js";
import type { JsonKey } from "../../json/selectors.js";
import { integerProblem, isRecord, nonFiniteNumberPath, objectProblem } from "../../json/validate.js";
import { checkImageSize, checkSegmentation, type Segmentation } from "../segmentation.js";

export interface InstanceMask {
  /** `annotations[12]` of the instances file, for messages. */
  at: string;
  segmentation: Segmentation;
  imageId: number;
  /** The instances file's image: its place and size (what annToRLE rasterises polygons at). */
  imageAt: string;
  height: number;
  width: number;
}

interface Found {
  index: number;
  imageId: number;
  segmentation?: Segmentation;
}

/** The annotations with an id in `wanted`, by id; ids not in the file are simply absent. */
export async function readInstanceMasks(file: string, wanted: ReadonlySet<number>, settings: JsonReadSettings = {}): Promise<Map<number, InstanceMask>> {
  const images = new Map<number, { index: number; record: Record<string, unknown> }>();
  const found = new Map<number, Found>();
  const before = await statInput(file);

  const visitImage = (value: unknown, key: JsonKey) => {
    const at = childPath("images", key);
    if (!isRecord(value)) throw new InputError(file, at, objectProblem(value) ?? "");
    const problem = integerProblem(value["id"]);
    if (problem) throw new InputError(file, `${at}.id`, problem);
    const id = value["id"] as number;
    if (images.has(id)) throw new InputError(file, `${at}.id`, `duplicate image id ${id} (also images[${images.get(id)!.index}])`);
    // Only height and width are kept: the rest of an image entry is dropped here.
    images.set(id, { index: key as number, record: { height: value["height"], width: value["width"] } });
  };
  const visitAnnotation = (parsed: boolean) => (value: unknown, key: JsonKey) => {
    const at = childPath("annotations", key);
    if (!isRecord(value)) throw new InputError(file, at, objectProblem(value) ?? "");
    const problem = integerProblem(value["id"]);
    if (problem) throw new InputError(file, `${at}.id`, problem);
    const id = value["id"] as number;
    if (!wanted.has(id)) {
      // What the split engine's skip checks in the masks nobody reads, the other engines check too.
      const below = parsed ? nonFiniteNumberPath(value["segmentation"]) : undefined;
      if (below !== undefined) throw new InputError(file, `${at}.segmentation${below}`, "expected a finite number, got a number out of range");
      return;
    }
    const earlier = found.get(id);
    if (earlier) throw new InputError(file, `${at}.id`, `duplicate annotation id ${id} (also annotations[${earlier.index}])`);
    const imageProblem = integerProblem(value["image_id"]);
    if (imageProblem) throw new InputError(file, `${at}.image_id`, imageProblem);
    found.set(id, { index: key as number, imageId: value["image_id"] as number, ...(parsed ? { segmentation: wantedSegmentation(file, at, value) } : {}) });
  };
  const selectors = (parsed: boolean) => ({ "$.images.*": visitImage, "$.annotations.*": visitAnnotation(parsed) });
  const check = (result: JsonReadResult) => {
    expectArrayContainer(file, "$.images", result.containers.get("$.images"));
    expectArrayContainer(file, "$.annotations", result.containers.get("$.annotations"));
  };

  let parsedAll = (settings.engine ?? "split") !== "split";
  if (!parsedAll) {
    const result = await readJson(file, selectors(false), settings, { skip: { annotations: "segmentation" }, offsets: ["annotations"] });
    check(result);
    const offsets = result.offsets.get("annotations");
    if (result.engine === "split" && offsets) readAtOffsets(file, found, offsets, before);
    else {
      // The splitter handed the file to the streaming engine, which nulled the polygons: read again.
      images.clear();
      found.clear();
      parsedAll = true;
    }
  }
  if (parsedAll) check(await readJson(file, selectors(true), { ...settings, engine: settings.engine === "parse" ? "parse" : "stream" }));

  const masks = new Map<number, InstanceMask>();
  for (const [id, annotation] of found) {
    const at = childPath("annotations", annotation.index);
    const image = images.get(annotation.imageId);
    if (!image) throw new InputError(file, `${at}.image_id`, `no image with id ${annotation.imageId} in images[]`);
    const imageAt = childPath("images", image.index);
    const { height, width } = checkImageSize(file, imageAt, image.record, "its annotations' polygons are rasterised at it");
    masks.set(id, { at, segmentation: annotation.segmentation!, imageId: annotation.imageId, imageAt, height, width });
  }
  return masks;
}

function wantedSegmentation(file: string, at: string, annotation: Record<string, unknown>): Segmentation {
  const value = annotation["segmentation"];
  if (value === undefined || value === null) throw new InputError(file, `${at}.segmentation`, "missing (a referring expression's annotation points at this one for its mask)");
  return checkSegmentation(file, `${at}.segmentation`, value);
}

/**
 * Parses the wanted annotations from their bytes: element k lies between offsets k and k + 1
 * (the bracket or comma before it and the comma or bracket after it). The file must not have
 * changed since the scan.
 */
function readAtOffsets(file: string, found: Map<number, Found>, offsets: Float64Array, before: { size: number; mtimeMs: number }): void {
  const changed = () => new InputError(file, undefined, "changed while it was read; run again on a file that stays as it is");
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const fd = openSync(file, "r");
  try {
    for (const [id, annotation] of found) {
      const start = offsets[annotation.index]! + 1;
      const end = offsets[annotation.index + 1]!;
      const bytes = Buffer.allocUnsafe(end - start);
      if (readSync(fd, bytes, 0, bytes.length, start) !== bytes.length) throw changed();
      let value: unknown;
      try {
        value = JSON.parse(decoder.decode(bytes));
      } catch {
        throw changed();
      }
      if (!isRecord(value) || value["id"] !== id) throw changed();
      annotation.segmentation = wantedSegmentation(file, childPath("annotations", annotation.index), value);
    }
    const after = fstatSync(fd);
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) throw changed();
  } finally {
    closeSync(fd);
  }
}
