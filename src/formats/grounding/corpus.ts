/**
 * MDETR-style grounding annotations (one datapoint = one caption per `images[]` entry, its boxes in
 * `annotations[]`), read from one or more files and grouped per real image by
 * (data_source, original_id), the way MDETR's pre-training script groups them before merging.
 *
 * Numbers are kept in typed arrays; caption strings and span arrays are kept as parsed.
 */
import { InputError, childPath } from "../../core/errors.js";
import { Growable } from "../../core/growable.js";
import { expectArrayContainer, readJson, type JsonReadSettings } from "../../json/reader.js";
import { checkCocoAnnotation } from "../coco.js";
import { describeJsonValue, finiteNumberProblem, integerProblem, isRecord, objectProblem } from "../../json/validate.js";
import { codePointLength } from "../../compat/python.js";

/** A [begin, end) character span into a caption, in code points (tokens_positive, tokens_negative). */
export type Span = [number, number];

export type DataSource = "coco" | "vg";

export interface ImageGroup {
  dataSource: DataSource;
  /** As text: the reference keys images by str(id) and writes that string out. */
  originalId: string;
  fileName: string;
  height: number;
  width: number;
  /** Datapoint indices in order of appearance across the input files. */
  datapoints: number[];
}

export interface SizeConflicts {
  count: number;
  example: string | undefined;
}

/** `images[3].tokens_negative` must be [[begin, end], ...] with 0 <= begin < caption length, begin <= end. */
export function spansProblem(value: unknown, captionLength: number): string | undefined {
  if (!Array.isArray(value)) return `expected a list of [begin, end] spans, got ${describeJsonValue(value)}`;
  for (let i = 0; i < value.length; i++) {
    const span: unknown = value[i];
    if (!Array.isArray(span) || span.length !== 2 || !Number.isInteger(span[0]) || !Number.isInteger(span[1])) {
      return `[${i}]: expected [begin, end] as two integers, got ${describeJsonValue(span)}`;
    }
    const [begin, end] = span as Span;
    if (begin < 0 || begin >= captionLength) return `[${i}]: span [${begin}, ${end}] starts outside the caption (length ${captionLength})`;
    if (end < begin) return `[${i}]: span [${begin}, ${end}] ends before it starts`;
  }
  return undefined;
}

export class GroundingCorpus {
  readonly groups: ImageGroup[] = [];
  readonly captions: string[] = [];
  readonly tokensNegative: Span[][] = [];
  /** Per annotation: [x, y, w, h] (4 numbers each), area, iscrowd, category_id, tokens_positive. */
  readonly bbox = new Growable(Float64Array, 1 << 16);
  readonly area = new Growable(Float64Array, 1 << 14);
  readonly iscrowd = new Growable(Float64Array, 1 << 14);
  readonly categoryId = new Growable(Float64Array, 1 << 14);
  readonly tokensPositive: Span[][] = [];
  readonly excluded = { images: new Set<string>(), datapoints: 0 };
  readonly sizeConflicts: SizeConflicts = { count: 0, example: undefined };

  private readonly groupIndex = new Map<string, number>();
  private readonly conflictingGroups = new Set<number>();
  private readonly datapointOfAnnotation = new Growable(Int32Array, 1 << 14);
  private annotationsByDatapoint: { start: Uint32Array; order: Uint32Array; count: Uint32Array } | undefined;

  constructor(private readonly exclude: ReadonlySet<string> = new Set()) {}

  get datapointCount(): number {
    return this.captions.length;
  }

  /** Annotation indices of one datapoint, in file order. */
  annotationsOf(datapoint: number): Uint32Array {
    const index = (this.annotationsByDatapoint ??= this.indexAnnotations());
    const start = index.start[datapoint]!;
    return index.order.subarray(start, start + index.count[datapoint]!);
  }

  async addFile(file: string, settings: JsonReadSettings = {}): Promise<void> {
    const datapointOfImageId = new Map<string, number>();
    const excludedImageIds = new Set<string>();
    const pending: { imageId: string; jsonIndex: number; tokensPositive: unknown }[] = [];
    const result = await readJson(file, {
      "$.images.*": (image, key) => this.addImage(file, childPath("images", key), image, datapointOfImageId, excludedImageIds),
      "$.annotations.*": (value, key) => {
        const { at, annotation, imageId, bbox } = checkCocoAnnotation(file, key, value);
        for (const field of ["area", "iscrowd", "category_id"] as const) {
          const problem = finiteNumberProblem(annotation[field]);
          if (problem) throw new InputError(file, `${at}.${field}`, problem);
        }
        pending.push({ imageId: String(imageId), jsonIndex: key as number, tokensPositive: annotation["tokens_positive"] });
        for (const v of bbox) this.bbox.push(v);
        this.area.push(annotation["area"] as number);
        this.iscrowd.push(annotation["iscrowd"] as number);
        this.categoryId.push(annotation["category_id"] as number);
      },
    }, settings);
    expectArrayContainer(file, "$.images", result.containers.get("$.images"));
    expectArrayContainer(file, "$.annotations", result.containers.get("$.annotations"));
    this.resolveAnnotations(file, pending, datapointOfImageId, excludedImageIds);
  }

  private addImage(file: string, at: string, image: unknown, datapointOfImageId: Map<string, number>, excludedImageIds: Set<string>): void {
    if (!isRecord(image)) throw new InputError(file, at, objectProblem(image) ?? "");
    const idProblem = integerProblem(image["id"]);
    if (idProblem) throw new InputError(file, `${at}.id`, idProblem);
    const id = String(image["id"]);
    if (datapointOfImageId.has(id) || excludedImageIds.has(id)) throw new InputError(file, `${at}.id`, `duplicate image id ${id}`);
    const { caption, data_source: dataSource, original_id: originalId, file_name: fileName } = image;
    if (typeof caption !== "string" || caption.length === 0) throw new InputError(file, `${at}.caption`, `expected a non-empty string, got ${describeJsonValue(caption)}`);
    if (dataSource !== "coco" && dataSource !== "vg") throw new InputError(file, `${at}.data_source`, `expected "coco" or "vg", got ${describeJsonValue(dataSource)}`);
    if (!(typeof originalId === "string" && originalId.length > 0) && finiteNumberProblem(originalId)) {
      throw new InputError(file, `${at}.original_id`, `expected a number or a non-empty string, got ${describeJsonValue(originalId)}`);
    }
    for (const field of ["height", "width"] as const) {
      const problem = finiteNumberProblem(image[field]);
      if (problem) throw new InputError(file, `${at}.${field}`, problem);
    }
    if (dataSource === "coco" && typeof fileName !== "string") throw new InputError(file, `${at}.file_name`, `expected a string, got ${describeJsonValue(fileName)}`);
    const negativesProblem = spansProblem(image["tokens_negative"], codePointLength(caption));
    if (negativesProblem) throw new InputError(file, `${at}.tokens_negative`, negativesProblem);

    const imageKey = `${dataSource}:${String(originalId)}`;
    if (this.exclude.has(imageKey)) {
      excludedImageIds.add(id);
      this.excluded.images.add(imageKey);
      this.excluded.datapoints++;
      return;
    }
    const datapoint = this.captions.length;
    datapointOfImageId.set(id, datapoint);
    this.captions.push(caption);
    this.tokensNegative.push(image["tokens_negative"] as Span[]);
    this.joinGroup(imageKey, datapoint, { dataSource, originalId: String(originalId), fileName: dataSource === "vg" ? `${String(originalId)}.jpg` : (fileName as string), height: image["height"] as number, width: image["width"] as number });
  }

  private joinGroup(key: string, datapoint: number, image: Omit<ImageGroup, "datapoints">): void {
    const existing = this.groupIndex.get(key);
    if (existing === undefined) {
      this.groupIndex.set(key, this.groups.length);
      this.groups.push({ ...image, datapoints: [datapoint] });
      return;
    }
    const group = this.groups[existing]!;
    group.datapoints.push(datapoint);
    if ((group.height !== image.height || group.width !== image.width) && !this.conflictingGroups.has(existing)) {
      this.conflictingGroups.add(existing);
      this.sizeConflicts.count++;
      this.sizeConflicts.example ??= `${key}: ${group.width}x${group.height} and ${image.width}x${image.height}`;
    }
  }

  private resolveAnnotations(
    file: string,
    pending: readonly { imageId: string; jsonIndex: number; tokensPositive: unknown }[],
    datapointOfImageId: ReadonlyMap<string, number>,
    excludedImageIds: ReadonlySet<string>,
  ): void {
    const firstAnnotation = this.datapointOfAnnotation.length;
    pending.forEach(({ imageId, jsonIndex, tokensPositive }, i) => {
      const at = `annotations[${jsonIndex}]`;
      const datapoint = datapointOfImageId.get(imageId);
      if (datapoint === undefined && !excludedImageIds.has(imageId)) throw new InputError(file, `${at}.image_id`, `no image with id ${imageId} in images[]`);
      if (datapoint !== undefined) {
        const problem = spansProblem(tokensPositive, codePointLength(this.captions[datapoint]!));
        if (problem) throw new InputError(file, `${at}.tokens_positive`, problem);
      }
      // Excluded images keep a slot (-1) so that the typed columns stay aligned.
      this.datapointOfAnnotation.push(datapoint ?? -1);
      this.tokensPositive[firstAnnotation + i] = (datapoint === undefined ? [] : tokensPositive) as Span[];
    });
  }

  /** A stable counting sort of annotations by datapoint. */
  private indexAnnotations(): { start: Uint32Array; order: Uint32Array; count: Uint32Array } {
    const owner = this.datapointOfAnnotation.view();
    const count = new Uint32Array(this.datapointCount);
    for (const d of owner) if (d >= 0) count[d]!++;
    const start = new Uint32Array(this.datapointCount);
    for (let d = 1; d < count.length; d++) start[d] = start[d - 1]! + count[d - 1]!;
    const next = start.slice();
    const order = new Uint32Array(owner.length);
    owner.forEach((d, a) => {
      if (d >= 0) order[next[d]!++] = a;
    });
    return { start, order, count };
  }
}

/** `--exclude` file: one `data_source:original_id` per line; blank lines and `#` comments skipped. */
export function parseExcludeList(file: string, text: string): Set<string> {
  const keys = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") return;
    const match = /^(coco|vg):(\S+)$/.exec(line);
    if (!match) throw new InputError(file, `line ${i + 1}`, `expected data_source:original_id (e.g. coco:391501), got ${JSON.stringify(raw)}`);
    keys.add(`${match[1]}:${match[2]}`);
  });
  return keys;
}
