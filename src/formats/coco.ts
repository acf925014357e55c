/** The checks every reader of COCO-style files makes, with the JSON path on failure. */
import { InputError, childPath } from "../core/errors.js";
import type { JsonKey } from "../json/selectors.js";
import { cocoBoxProblem, integerProblem, isRecord, objectProblem } from "../json/validate.js";

export interface CheckedAnnotation {
  /** `annotations[12]`, for further error messages. */
  at: string;
  annotation: Record<string, unknown>;
  imageId: number;
  /** [x, y, w, h], finite, width and height >= 0. */
  bbox: [number, number, number, number];
}

export function checkCocoAnnotation(file: string, key: JsonKey, value: unknown): CheckedAnnotation {
  const at = childPath("annotations", key);
  if (!isRecord(value)) throw new InputError(file, at, objectProblem(value) ?? "");
  const imageIdProblem = integerProblem(value["image_id"]);
  if (imageIdProblem) throw new InputError(file, `${at}.image_id`, imageIdProblem);
  const boxProblem = cocoBoxProblem(value["bbox"]);
  if (boxProblem) throw new InputError(file, `${at}.bbox`, boxProblem);
  return { at, annotation: value, imageId: value["image_id"] as number, bbox: value["bbox"] as CheckedAnnotation["bbox"] };
}

/** An `images[]` / `categories[]` element: an object with an integer `id` (else an InputError at its place). */
export function checkIdRecord(file: string, container: string, key: JsonKey, value: unknown): { at: string; record: Record<string, unknown>; id: number } {
  const at = childPath(container, key);
  if (!isRecord(value)) throw new InputError(file, at, objectProblem(value) ?? "");
  const problem = integerProblem(value["id"]);
  if (problem) throw new InputError(file, `${at}.id`, problem);
  return { at, record: value, id: value["id"] as number };
}

/** `"/".join(coco_url.split("/")[-2:])`: `val2017/000000397133.jpg`, as MDETR's LVIS scripts name pictures. */
export function cocoUrlFileName(cocoUrl: string): string {
  return cocoUrl.split("/").slice(-2).join("/");
}
