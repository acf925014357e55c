/**
 * LVIS v1 training annotations as MDETR's few-shot conversion reads them
 * (scripts/fine-tuning/lvis_coco_format.py, subsample_lvis.py), streamed into typed columns:
 * per image its id, negative and not-exhaustive category lists (and, for MDETR's datapoints, its
 * size and coco_url); per annotation its image, category, box and area. Segmentations are checked
 * but not parsed (the reader's `skip`): a subset in LVIS format copies annotations from the file's
 * bytes (subset-writer.ts) instead of keeping or rebuilding them.
 */
import { InputError, childPath } from "../../core/errors.js";
import { Growable } from "../../core/growable.js";
import type { Progress } from "../../core/progress.js";
import { expectArrayContainer, readJson, statInput, type JsonReadSettings } from "../../json/reader.js";
import { box4Problem, describeJsonValue, finiteNumberProblem, integerProblem, isRecord, nonFiniteNumberPath, objectProblem } from "../../json/validate.js";
import { FREQUENCIES } from "./annotations.js";

/** Which fields a conversion needs beyond the ids and category lists every one reads. */
export interface TrainingSetNeeds {
  /** MDETR's datapoints: each image's height, width and coco_url, each category's name as a string. */
  datapointFields: boolean;
  /** The sampler: each category's image_count. */
  imageCount: boolean;
  /**
   * A subset in LVIS format, which copies records as they are: the file's `info` (which
   * subsample_lvis.py copies), and every number in the copied records checked to be finite.
   */
  copy: boolean;
}

/** Category lists, flattened: the entries of item i are `entries[start[i] .. start[i + 1])`. */
export interface IndexLists {
  start: Int32Array;
  entries: Int32Array;
}

export interface LvisTrainingSet {
  file: string;
  /** Size and modification time when it was read: a second pass checks the file is the same. */
  stamp: { size: number; mtimeMs: number };
  /**
   * Where each image and annotation lies in the file (the split engine's offsets: `[`, the commas,
   * `]`), for a copy that reads only those bytes; absent for the other engines.
   */
  offsets: { images: Float64Array; annotations: Float64Array } | undefined;
  /** The file's `info` (when asked for; undefined when the file has none). */
  info: unknown;
  images: {
    count: number;
    /** In file order, like every column here. */
    id: Float64Array;
    /** `neg_category_ids` as category indices, in list order, repeats kept. */
    negative: IndexLists;
    /** `not_exhaustive_category_ids` as category indices. */
    notExhaustive: IndexLists;
    height: Float64Array;
    width: Float64Array;
    cocoUrl: string[];
  };
  annotations: {
    count: number;
    /** Image and category as indices into `images` and `categories`. */
    image: Int32Array;
    category: Int32Array;
    /** [x, y, w, h] per annotation. */
    bbox: Float64Array;
    area: Float64Array;
  };
  categories: {
    count: number;
    id: Float64Array;
    name: string[];
    /** The `image_count` field as the file gives it (never recomputed, as MDETR uses it). */
    imageCount: Float64Array;
    /** 0 r, 1 c, 2 f. */
    frequency: Uint8Array;
    /** The category objects as parsed, for outputs that copy them unchanged. */
    records: unknown[];
  };
}

const LISTS = {
  neg_category_ids: "the negative categories",
  not_exhaustive_category_ids: "the not exhaustively annotated categories",
} as const;

class ListColumn {
  readonly start = new Growable(Int32Array);
  readonly ids = new Growable(Float64Array);

  constructor() {
    this.start.push(0);
  }

  add(file: string, at: string, image: Record<string, unknown>, key: keyof typeof LISTS): void {
    const value = image[key];
    const where = `${at}.${key}`;
    if (value === undefined) throw new InputError(file, where, `missing (LVIS v1 lists ${LISTS[key]} of every image; use [] for none)`);
    if (!Array.isArray(value)) throw new InputError(file, where, `expected a list of category ids, got ${describeJsonValue(value)}`);
    for (let i = 0; i < value.length; i++) {
      const problem = integerProblem(value[i]);
      if (problem) throw new InputError(file, `${where}[${i}]`, problem);
      this.ids.push(value[i] as number);
    }
    this.start.push(this.ids.length);
  }

  /** The lists with category ids turned into indices; an id that is no category names its place. */
  resolve(file: string, key: keyof typeof LISTS, categoryIndex: Map<number, number>): IndexLists {
    const start = this.start.view().slice();
    const ids = this.ids.view();
    const entries = new Int32Array(ids.length);
    let image = 0;
    for (let e = 0; e < ids.length; e++) {
      const c = categoryIndex.get(ids[e]!);
      if (c === undefined) {
        while (start[image + 1]! <= e) image++;
        throw new InputError(file, `images[${image}].${key}[${e - start[image]!}]`, `no category with id ${ids[e]}`);
      }
      entries[e] = c;
    }
    return { start, entries };
  }
}

function requireField(file: string, at: string, record: Record<string, unknown>, key: string, problem: (value: unknown) => string | undefined): void {
  const found = problem(record[key]);
  if (found) throw new InputError(file, `${at}.${key}`, record[key] === undefined ? "missing" : found);
}

/** A record copied to the output must not hold 1e400 (JSON.stringify would write null). */
function requireFiniteNumbers(file: string, at: string, value: unknown): void {
  const below = nonFiniteNumberPath(value);
  if (below !== undefined) throw new InputError(file, `${at}${below}`, "expected a finite number, got a number out of range");
}

const stringProblem = (value: unknown) => (typeof value === "string" ? undefined : `expected a string, got ${describeJsonValue(value)}`);

function offsetsOf(found: Map<string, Float64Array>): LvisTrainingSet["offsets"] {
  const images = found.get("images");
  const annotations = found.get("annotations");
  return images && annotations ? { images, annotations } : undefined;
}

/** Reads an LVIS v1 training file; `progress` shows the bytes read on a terminal. */
export async function readLvisTrainingSet(file: string, needs: TrainingSetNeeds, settings: JsonReadSettings, progress?: (totalBytes: number) => Progress): Promise<LvisTrainingSet> {
  const imageId = new Growable(Float64Array, 1 << 14);
  const height = new Growable(Float64Array, 1 << 14);
  const width = new Growable(Float64Array, 1 << 14);
  const cocoUrl: string[] = [];
  const negative = new ListColumn();
  const notExhaustive = new ListColumn();
  const annotationImage = new Growable(Float64Array, 1 << 16);
  const annotationCategory = new Growable(Float64Array, 1 << 16);
  const bbox = new Growable(Float64Array, 1 << 18);
  const area = new Growable(Float64Array, 1 << 16);
  const categories: { id: number; name: string; imageCount: number; frequency: number; at: string }[] = [];
  const records: unknown[] = [];

  const { size, mtimeMs } = await statInput(file);
  const result = await readJson(
    file,
    {
      "$.images.*": (value, key) => {
        const at = childPath("images", key);
        if (!isRecord(value)) throw new InputError(file, at, objectProblem(value) ?? "");
        requireField(file, at, value, "id", integerProblem);
        if (needs.copy) requireFiniteNumbers(file, at, value);
        imageId.push(value["id"] as number);
        negative.add(file, at, value, "neg_category_ids");
        notExhaustive.add(file, at, value, "not_exhaustive_category_ids");
        if (needs.datapointFields) {
          requireField(file, at, value, "height", finiteNumberProblem);
          requireField(file, at, value, "width", finiteNumberProblem);
          requireField(file, at, value, "coco_url", stringProblem);
          height.push(value["height"] as number);
          width.push(value["width"] as number);
          cocoUrl.push(value["coco_url"] as string);
        }
      },
      "$.annotations.*": (value, key) => {
        const at = childPath("annotations", key);
        if (!isRecord(value)) throw new InputError(file, at, objectProblem(value) ?? "");
        requireField(file, at, value, "image_id", integerProblem);
        requireField(file, at, value, "category_id", integerProblem);
        requireField(file, at, value, "bbox", box4Problem);
        requireField(file, at, value, "area", finiteNumberProblem);
        if (needs.copy) requireFiniteNumbers(file, at, value);
        annotationImage.push(value["image_id"] as number);
        annotationCategory.push(value["category_id"] as number);
        for (const v of value["bbox"] as number[]) bbox.push(v);
        area.push(value["area"] as number);
      },
      "$.categories.*": (value, key) => {
        const at = childPath("categories", key);
        if (!isRecord(value)) throw new InputError(file, at, objectProblem(value) ?? "");
        requireField(file, at, value, "id", integerProblem);
        const frequency = FREQUENCIES.indexOf(value["frequency"] as (typeof FREQUENCIES)[number]);
        if (frequency < 0) throw new InputError(file, `${at}.frequency`, `expected "r", "c" or "f", got ${describeJsonValue(value["frequency"])}`);
        // clean_name runs re.sub over every category's name; the sampler sorts by image_count.
        if (needs.datapointFields) requireField(file, at, value, "name", stringProblem);
        if (needs.imageCount) requireField(file, at, value, "image_count", finiteNumberProblem);
        categories.push({
          id: value["id"] as number,
          name: typeof value["name"] === "string" ? value["name"] : String(value["id"]),
          imageCount: typeof value["image_count"] === "number" ? value["image_count"] : 0,
          frequency,
          at,
        });
        requireFiniteNumbers(file, at, value);
        records.push(value);
      },
    },
    settings,
    {
      keep: needs.copy ? ["info"] : [],
      // Polygons are most of the file and nobody here reads them: checked, never parsed.
      skip: { annotations: "segmentation" },
      ...(needs.copy ? { offsets: ["images", "annotations"] } : {}),
      ...(progress ? { progress } : {}),
    },
  );
  for (const container of ["$.images", "$.categories", "$.annotations"]) expectArrayContainer(file, container, result.containers.get(container));
  // subsample_lvis.py copies data["info"]: a file without it fails there.
  if (needs.copy) {
    if (!result.values.has("info")) throw new InputError(file, "info", "missing (a subset in LVIS format copies the file's info; MDETR's subsample_lvis.py fails without it)");
    requireFiniteNumbers(file, "info", result.values.get("info"));
  }

  const categoryIndex = new Map<number, number>();
  categories.forEach((c, i) => {
    if (categoryIndex.has(c.id)) throw new InputError(file, c.at, `duplicate category id ${c.id}`);
    categoryIndex.set(c.id, i);
  });
  const ids = imageId.view();
  const imageIndex = new Map<number, number>();
  ids.forEach((id, i) => {
    if (imageIndex.has(id)) throw new InputError(file, `images[${i}].id`, `duplicate image id ${id} (also images[${imageIndex.get(id)}])`);
    imageIndex.set(id, i);
  });
  const resolve = (values: Float64Array, index: Map<number, number>, field: string, what: string) => {
    const out = new Int32Array(values.length);
    for (let a = 0; a < values.length; a++) {
      const i = index.get(values[a]!);
      if (i === undefined) throw new InputError(file, `annotations[${a}].${field}`, `no ${what} with id ${values[a]}`);
      out[a] = i;
    }
    return out;
  };
  return {
    file,
    stamp: { size, mtimeMs },
    offsets: offsetsOf(result.offsets),
    info: result.values.get("info"),
    images: {
      count: ids.length,
      id: ids.slice(),
      negative: negative.resolve(file, "neg_category_ids", categoryIndex),
      notExhaustive: notExhaustive.resolve(file, "not_exhaustive_category_ids", categoryIndex),
      height: height.view().slice(),
      width: width.view().slice(),
      cocoUrl,
    },
    annotations: {
      count: annotationImage.length,
      image: resolve(annotationImage.view(), imageIndex, "image_id", "image"),
      category: resolve(annotationCategory.view(), categoryIndex, "category_id", "category"),
      bbox: bbox.view().slice(),
      area: area.view().slice(),
    },
    categories: {
      count: categories.length,
      id: Float64Array.from(categories, (c) => c.id),
      name: categories.map((c) => c.name),
      imageCount: Float64Array.from(categories, (c) => c.imageCount),
      frequency: Uint8Array.from(categories, (c) => c.frequency),
      records,
    },
  };
}
