/**
 * MDETR's Flickr30k predictions: `[{"image_id": "1000092795", "sentence_id": 0, "boxes": [[[x1, y1,
 * x2, y2], ...ranked...], ...one list per evaluated phrase, in sentence order...]}]`, read as a
 * stream with each phrase's boxes in a Float64Array.
 */
import { InputError, childPath } from "../../core/errors.js";
import { readJson, type JsonReadSettings } from "../../json/reader.js";
import { box4Problem, describeJsonValue, isRecord, objectProblem } from "../../json/validate.js";

export interface FlickrPrediction {
  /** The file and `[index]` in it, for messages. */
  file: string;
  at: string;
  imageId: string;
  sentenceId: number;
  /** Per phrase: its ranked boxes, 4 numbers each. */
  boxes: Float64Array[];
}

export async function readFlickrPredictions(file: string, settings: JsonReadSettings = {}): Promise<FlickrPrediction[]> {
  const predictions: FlickrPrediction[] = [];
  const result = await readJson(file, {
    "$.*": (value, key) => {
      const at = childPath("", key);
      if (typeof key === "string") throw new InputError(file, undefined, "expected a list of predictions [{image_id, sentence_id, boxes}, ...]");
      if (!isRecord(value)) throw new InputError(file, at, objectProblem(value) ?? "");
      const imageId = value["image_id"];
      if (!(typeof imageId === "string" && imageId !== "") && !(typeof imageId === "number" && Number.isInteger(imageId))) {
        throw new InputError(file, `${at}.image_id`, `expected an image id (string or integer), got ${describeJsonValue(imageId)}`);
      }
      const sentenceId = typeof value["sentence_id"] === "string" && /^\d+$/.test(value["sentence_id"]) ? Number(value["sentence_id"]) : value["sentence_id"];
      if (typeof sentenceId !== "number" || !Number.isInteger(sentenceId) || sentenceId < 0) {
        throw new InputError(file, `${at}.sentence_id`, `expected a sentence index (an integer >= 0), got ${describeJsonValue(value["sentence_id"])}`);
      }
      const phrases = value["boxes"];
      if (!Array.isArray(phrases)) throw new InputError(file, `${at}.boxes`, `expected one list of boxes per phrase, got ${describeJsonValue(phrases)}`);
      const boxes = phrases.map((list: unknown, p) => {
        if (!Array.isArray(list)) throw new InputError(file, `${at}.boxes[${p}]`, `expected a list of [x1, y1, x2, y2] boxes, got ${describeJsonValue(list)}`);
        const flat = new Float64Array(4 * list.length);
        list.forEach((box: unknown, b) => {
          const problem = box4Problem(box);
          if (problem) throw new InputError(file, `${at}.boxes[${p}][${b}]`, problem);
          flat.set(box as number[], 4 * b);
        });
        return flat;
      });
      predictions.push({ file, at, imageId: String(imageId), sentenceId, boxes });
    },
  }, settings);
  if (result.containers.get("$") !== "array") throw new InputError(file, undefined, "expected a list of predictions [{image_id, sentence_id, boxes}, ...]");
  return predictions;
}
