/**
 * LVIS v1 ground truth, streamed: images with their negative and not-exhaustive category lists,
 * categories with their frequency, and annotations. For box AP segmentations are checked as JSON,
 * with finite numbers, but never parsed or kept; for mask AP they are read into compact RLEs. Numbers go to typed arrays; ids are resolved to indices into the sorted
 * image and category ids, which is the order lvis-api evaluates in.
 */
import { InputError } from "../../core/errors.js";
import { Growable } from "../../core/growable.js";
import { checkCocoAnnotation, checkIdRecord, cocoUrlFileName } from "../coco.js";
import { checkImageSize } from "../segmentation.js";
import type { PackedRles } from "../../compat/coco-mask/packed.js";
import { FREQUENCIES } from "./frequency.js";
import { GroundTruthMasks } from "./gt-masks.js";
import { ByteCursor, type ElementDecoder } from "../../json/byte-cursor.js";
import { expectArrayContainer, readJson, type JsonReadSettings } from "../../json/reader.js";
import { describeJsonValue, finiteNumberProblem, integerProblem } from "../../json/validate.js";

export { FREQUENCIES } from "./frequency.js";

export interface LvisGroundTruth {
  /** Image ids, sorted ascending (lvis-api: params.img_ids). */
  imageIds: Float64Array;
  imageIndex: Map<number, number>;
  /** Category ids, sorted ascending (params.cat_ids), with name and frequency (0 r, 1 c, 2 f). */
  categoryIds: Float64Array;
  categoryIndex: Map<number, number>;
  categoryNames: string[];
  frequency: Uint8Array;
  /** (image index * categories + category index) keys of negative / not-exhaustive pairs. */
  negative: Set<number>;
  notExhaustive: Set<number>;
  /** Annotations in file order: image and category indices, [x, y, w, h], area, id, ignore. */
  annotations: {
    image: Int32Array;
    category: Int32Array;
    bbox: Float64Array;
    area: Float64Array;
    id: Float64Array;
    ignore: Uint8Array;
    /** With masks: each annotation's mask, at its image's size. */
    masks?: PackedRles;
  };
  /** With masks: height and width per image index. */
  imageHeight?: Int32Array;
  imageWidth?: Int32Array;
}

interface RawImage {
  id: number;
  at: string;
  negative: number[];
  notExhaustive: number[];
  height: number;
  width: number;
}

/** What each image's category list holds, for the message when a file leaves one out. */
const IMAGE_LISTS = {
  neg_category_ids: "the negative categories",
  not_exhaustive_category_ids: "the not exhaustively annotated categories",
} as const;

/**
 * An image's `neg_category_ids` or `not_exhaustive_category_ids`. Both are required, as lvis-api
 * reads them with `img[key]` (a KeyError when missing). Defaulting to [] would change the score
 * silently: detections of the image's negative categories would be dropped instead of counting as
 * false positives, and unmatched ones in not-exhaustive categories would count instead of being ignored.
 */
function imageCategoryList(file: string, at: string, image: Record<string, unknown>, key: keyof typeof IMAGE_LISTS): number[] {
  const value = image[key];
  if (value === undefined) throw new InputError(file, `${at}.${key}`, `missing (LVIS v1 lists ${IMAGE_LISTS[key]} of every image; use [] for none)`);
  return idList(file, `${at}.${key}`, value);
}

function idList(file: string, at: string, value: unknown): number[] {
  if (!Array.isArray(value)) throw new InputError(file, at, `expected a list of category ids, got ${describeJsonValue(value)}`);
  value.forEach((id, i) => {
    const problem = integerProblem(id);
    if (problem) throw new InputError(file, `${at}[${i}]`, problem);
  });
  return value as number[];
}

/** `masks`: also read every annotation's segmentation and every image's size (mask AP). */
export async function readLvisGroundTruth(file: string, settings: JsonReadSettings = {}, masks = false): Promise<LvisGroundTruth> {
  const gtMasks = masks ? new GroundTruthMasks(file) : undefined;
  const images: RawImage[] = [];
  const categories: { id: number; name: string; frequency: number; at: string }[] = [];
  const image = new Growable(Float64Array);
  const category = new Growable(Float64Array);
  const bbox = new Growable(Float64Array, 1 << 14);
  const area = new Growable(Float64Array);
  const id = new Growable(Float64Array);
  const ignore = new Growable(Float64Array);

  const result = await readJson(file, {
    "$.images.*": (element, key) => {
      const { at, record: value, id: imageId } = checkIdRecord(file, "images", key, element);
      const size = masks ? checkImageSize(file, at, value, "masks are rasterised at it") : { height: 0, width: 0 };
      images.push({
        id: imageId,
        at,
        ...size,
        negative: imageCategoryList(file, at, value, "neg_category_ids"),
        notExhaustive: imageCategoryList(file, at, value, "not_exhaustive_category_ids"),
      });
    },
    "$.categories.*": (element, key) => {
      const { at, record: value } = checkIdRecord(file, "categories", key, element);
      const frequency = FREQUENCIES.indexOf(value["frequency"] as (typeof FREQUENCIES)[number]);
      if (frequency < 0) throw new InputError(file, `${at}.frequency`, `expected "r", "c" or "f", got ${describeJsonValue(value["frequency"])}`);
      categories.push({ id: value["id"] as number, name: typeof value["name"] === "string" ? value["name"] : String(value["id"]), frequency, at });
    },
    "$.annotations.*": (value, key) => {
      const { at, annotation, imageId, bbox: box } = checkCocoAnnotation(file, key, value);
      for (const field of ["category_id", "area", "id"] as const) {
        const problem = field === "area" ? finiteNumberProblem(annotation[field]) : integerProblem(annotation[field]);
        if (problem) throw new InputError(file, `${at}.${field}`, problem);
      }
      image.push(imageId);
      category.push(annotation["category_id"] as number);
      for (const v of box) bbox.push(v);
      area.push(annotation["area"] as number);
      id.push(annotation["id"] as number);
      // lvis-api honours an "ignore" flag when a file has one (it sets 0 where missing).
      ignore.push(annotation["ignore"] ? 1 : 0);
      gtMasks?.add(at, annotation);
    },
  }, settings, masks ? {} : { skip: { annotations: "segmentation" }, decode: { "$.annotations.*": annotationDecoder({ image, category, bbox, area, id, ignore }) } });
  for (const container of ["$.images", "$.categories", "$.annotations"]) expectArrayContainer(file, container, result.containers.get(container));

  const imageIds = Float64Array.from(images, (i) => i.id).sort();
  const imageIndex = new Map<number, number>();
  imageIds.forEach((v, i) => {
    if (imageIndex.has(v)) throw new InputError(file, images.find((x) => x.id === v)!.at, `duplicate image id ${v}`);
    imageIndex.set(v, i);
  });
  const sortedCategories = [...categories].sort((a, b) => a.id - b.id);
  const categoryIndex = new Map<number, number>();
  sortedCategories.forEach((c, i) => {
    if (categoryIndex.has(c.id)) throw new InputError(file, c.at, `duplicate category id ${c.id}`);
    categoryIndex.set(c.id, i);
  });
  const k = sortedCategories.length;
  const pairs = (list: "negative" | "notExhaustive", field: string) => {
    const keys = new Set<number>();
    for (const img of images) {
      img[list].forEach((categoryId, i) => {
        const c = categoryIndex.get(categoryId);
        if (c === undefined) throw new InputError(file, `${img.at}.${field}[${i}]`, `no category with id ${categoryId}`);
        keys.add(imageIndex.get(img.id)! * k + c);
      });
    }
    return keys;
  };
  const resolve = (values: Float64Array, index: Map<number, number>, field: string, what: string) =>
    Int32Array.from(values, (v, a) => {
      const i = index.get(v);
      if (i === undefined) throw new InputError(file, `annotations[${a}].${field}`, `no ${what} with id ${v}`);
      return i;
    });
  const annotationImage = resolve(image.view(), imageIndex, "image_id", "image");
  const sizes = masks ? imageSizes(images, imageIndex) : undefined;
  return {
    imageIds,
    imageIndex,
    ...(sizes && { imageHeight: sizes.height, imageWidth: sizes.width }),
    categoryIds: Float64Array.from(sortedCategories, (c) => c.id),
    categoryIndex,
    categoryNames: sortedCategories.map((c) => c.name),
    frequency: Uint8Array.from(sortedCategories, (c) => c.frequency),
    negative: pairs("negative", "neg_category_ids"),
    notExhaustive: pairs("notExhaustive", "not_exhaustive_category_ids"),
    annotations: {
      image: annotationImage,
      category: resolve(category.view(), categoryIndex, "category_id", "category"),
      bbox: bbox.view().slice(),
      area: area.view().slice(),
      id: id.view().slice(),
      ignore: Uint8Array.from(ignore.view()),
      ...(sizes && gtMasks && { masks: gtMasks.build(annotationImage, sizes.height, sizes.width) }),
    },
  };
}

const ANNOTATION_FIELDS = ByteCursor.names(["image_id", "category_id", "bbox", "area", "id", "ignore"]);
/** image_id, category_id, bbox, area and id: what every annotation must have. */
const REQUIRED_FIELDS = 0b11111;
const IGNORE_FIELD = 5;

/**
 * The fast path for a box-AP annotation: the five fields the visitor keeps, an `ignore` number,
 * every other member (the segmentation) checked by the cursor's skip, as the splitter's skip
 * checks it. It keeps exactly what the "$.annotations.*" visitor would keep and leaves it every
 * annotation that visitor would refuse (a fractional id, a negative width, a missing area) or that
 * the cursor is not sure of (an `ignore` that is not a number, a key with escapes).
 */
function annotationDecoder(out: Record<"image" | "category" | "bbox" | "area" | "id" | "ignore", Growable<Float64Array>>): ElementDecoder {
  const cursor = new ByteCursor();
  const box = new Float64Array(4);
  // The numbers of image_id, category_id, (bbox), area, id, ignore, by field.
  const values = new Float64Array(ANNOTATION_FIELDS.length);
  const readField = (field: number): boolean => {
    if (field === 2) return cursor.box(box);
    if (!cursor.finite()) return false;
    values[field] = cursor.value;
    return true;
  };
  return (bytes, start) => {
    cursor.at(bytes, start);
    const seen = cursor.object(ANNOTATION_FIELDS, readField);
    if (seen < 0 || (seen & REQUIRED_FIELDS) !== REQUIRED_FIELDS) return -1;
    if (!Number.isInteger(values[0]) || !Number.isInteger(values[1]) || !Number.isInteger(values[4]) || box[2]! < 0 || box[3]! < 0) return -1;
    out.image.push(values[0]!);
    out.category.push(values[1]!);
    for (let k = 0; k < 4; k++) out.bbox.push(box[k]!);
    out.area.push(values[3]!);
    out.id.push(values[4]!);
    // The visitor's `annotation.ignore ? 1 : 0`, for a number (0 and -0 are falsy).
    out.ignore.push(seen & (1 << IGNORE_FIELD) && values[IGNORE_FIELD] !== 0 ? 1 : 0);
    return cursor.pos;
  };
}

function imageSizes(images: readonly RawImage[], imageIndex: ReadonlyMap<number, number>): { height: Int32Array; width: Int32Array } {
  const height = new Int32Array(images.length);
  const width = new Int32Array(images.length);
  for (const img of images) {
    const i = imageIndex.get(img.id)!;
    height[i] = img.height;
    width[i] = img.width;
  }
  return { height, width };
}

/** An LVIS image as a model run needs it: where its picture is. */
export interface LvisPicture {
  id: number;
  /** `<last two '/'-parts of coco_url>` (val2017/000000397133.jpg), when the image has a coco_url. */
  fromCocoUrl: string | undefined;
  fileName: string | undefined;
}

/** Images (sorted by id) and categories (sorted by id, with names) of an LVIS file, for `infer lvis`. */
export async function readLvisPictures(file: string, settings: JsonReadSettings = {}): Promise<{ pictures: LvisPicture[]; categories: { id: number; name: string }[] }> {
  const pictures: LvisPicture[] = [];
  const categories: { id: number; name: string }[] = [];
  const result = await readJson(file, {
    "$.images.*": (element, key) => {
      const { at, record, id } = checkIdRecord(file, "images", key, element);
      const url = record["coco_url"];
      const name = record["file_name"];
      if (typeof url !== "string" && typeof name !== "string") throw new InputError(file, at, "expected a coco_url or a file_name to find the picture by");
      pictures.push({ id, fromCocoUrl: typeof url === "string" ? cocoUrlFileName(url) : undefined, fileName: typeof name === "string" ? name : undefined });
    },
    "$.categories.*": (element, key) => {
      const { at, record, id } = checkIdRecord(file, "categories", key, element);
      if (typeof record["name"] !== "string") throw new InputError(file, `${at}.name`, `expected the category's name, got ${describeJsonValue(record["name"])}`);
      categories.push({ id, name: record["name"] });
    },
  }, settings, { skip: { annotations: "segmentation" } });
  for (const container of ["$.images", "$.categories"]) expectArrayContainer(file, container, result.containers.get(container));
  const sortById = <T extends { id: number }>(list: T[], what: string) => {
    list.sort((a, b) => a.id - b.id);
    list.forEach((item, i) => {
      if (i > 0 && list[i - 1]!.id === item.id) throw new InputError(file, undefined, `duplicate ${what} id ${item.id}`);
    });
    return list;
  };
  return { pictures: sortById(pictures, "image"), categories: sortById(categories, "category") };
}
