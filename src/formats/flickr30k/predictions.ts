/**
 * MDETR's Flickr30k predictions: `[{"image_id": "1000092795", "sentence_id": 0, "boxes": [[[x1, y1,
 * x2, y2], ...ranked...], ...one list per evaluated phrase, in sentence order...]}]`, read as a
 * stream with each phrase's boxes in a Float64Array. The evaluation scores each prediction as it
 * comes and keeps none of its boxes (35 MiB of text are 48 MB of doubles on the test split).
 */
import { InputError, childPath } from "../../core/errors.js";
import { Growable } from "../../core/growable.js";
import { ByteCursor, type ElementDecoder } from "../../json/byte-cursor.js";
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

const LIST_EXPECTED = "expected a list of predictions [{image_id, sentence_id, boxes}, ...]";

/**
 * Hands over each prediction in file order, its boxes as views that are valid only during the
 * call (copy what you keep).
 */
export async function streamFlickrPredictions(file: string, settings: JsonReadSettings, take: (prediction: FlickrPrediction) => void): Promise<void> {
  const result = await readJson(file, {
    "$.*": (value, key) => {
      const at = childPath("", key);
      if (typeof key === "string") throw new InputError(file, undefined, LIST_EXPECTED);
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
      take({ file, at, imageId: String(imageId), sentenceId, boxes });
    },
  }, settings, { decode: { "$.*": predictionDecoder(file, take) } });
  if (result.containers.get("$") !== "array") throw new InputError(file, undefined, LIST_EXPECTED);
}

/** Every prediction, with copies of its boxes (for a caller that keeps them all). */
export async function readFlickrPredictions(file: string, settings: JsonReadSettings = {}): Promise<FlickrPrediction[]> {
  const predictions: FlickrPrediction[] = [];
  await streamFlickrPredictions(file, settings, (p) => predictions.push({ ...p, boxes: p.boxes.map((b) => b.slice()) }));
  return predictions;
}

const FIELDS = ByteCursor.names(["image_id", "sentence_id", "boxes"]);
const ALL_FIELDS = 0b111;

/**
 * The fast path for a prediction `{"image_id", "sentence_id", "boxes"}` in any order, other members
 * skipped: it hands over exactly what the visitor would, and leaves to it every element the
 * visitor would refuse or read another way (a string sentence id, a fractional or empty image id,
 * a box of 3 numbers, a repeated member, escapes).
 */
function predictionDecoder(file: string, take: (prediction: FlickrPrediction) => void): ElementDecoder {
  const cursor = new ByteCursor();
  // One element's boxes, phrase after phrase (reused: the views handed over live only during
  // the call), and where each phrase's boxes end in it.
  const arena = new Growable<Float64Array>(Float64Array, 1 << 14);
  const ends: number[] = [];
  let imageId = "";
  let sentenceId = 0;
  const readBoxes = (): boolean => {
    if (!cursor.take(0x5b)) return false;
    if (cursor.space() === 0x5d) {
      cursor.pos++;
      return true;
    }
    for (;;) {
      const count = cursor.boxList();
      if (count < 0) return false;
      arena.append(cursor.boxes.subarray(0, 4 * count));
      ends.push(arena.length);
      const c = cursor.space();
      cursor.pos++;
      if (c === 0x5d) return true;
      if (c !== 0x2c) return false;
    }
  };
  const readField = (field: number): boolean => {
    if (field === 0) {
      if (cursor.space() === 0x22) {
        const id = cursor.asciiString();
        if (!id) return false;
        imageId = id;
      } else {
        if (!cursor.finite() || !Number.isInteger(cursor.value)) return false;
        imageId = String(cursor.value);
      }
      return true;
    }
    if (field === 1) {
      // (A sentence id written as a string of digits is left to the visitor.)
      if (!cursor.finite() || !Number.isInteger(cursor.value) || cursor.value < 0) return false;
      sentenceId = cursor.value;
      return true;
    }
    return readBoxes();
  };
  return (bytes, start, index) => {
    cursor.at(bytes, start);
    arena.length = 0;
    ends.length = 0;
    const seen = cursor.object(FIELDS, readField);
    if (seen !== ALL_FIELDS) return -1;
    const all = arena.view();
    const boxes = ends.map((end, p) => all.subarray(p === 0 ? 0 : ends[p - 1]!, end));
    take({ file, at: childPath("", index), imageId, sentenceId, boxes });
    return cursor.pos;
  };
}
