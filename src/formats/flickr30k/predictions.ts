/**
 * MDETR's Flickr30k predictions: `[{"image_id": "1000092795", "sentence_id": 0, "boxes": [[[x1, y1,
 * x2, y2], ...ranked...], ...one list per evaluated phrase, in sentence order...]}]`, read as a
 * stream with each phrase's boxes in a Float64Array.
 */
import { InputError, childPath } from "../../core/errors.js";
import { ByteCursor, GIVE_UP, OTHER_KEY, type ElementDecoder } from "../../json/byte-cursor.js";
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

export async function readFlickrPredictions(file: string, settings: JsonReadSettings = {}): Promise<FlickrPrediction[]> {
  const predictions: FlickrPrediction[] = [];
  // The index of the next element: the visitor sees every element the fast path leaves, in order.
  const next = { index: 0 };
  const result = await readJson(file, {
    "$.*": (value, key) => {
      const at = childPath("", key);
      if (typeof key === "string") throw new InputError(file, undefined, LIST_EXPECTED);
      next.index = key + 1;
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
  }, settings, { decode: { "$.*": predictionDecoder(file, predictions, next) } });
  if (result.containers.get("$") !== "array") throw new InputError(file, undefined, LIST_EXPECTED);
  return predictions;
}

const FIELDS = ByteCursor.names(["image_id", "sentence_id", "boxes"]);
const ALL_FIELDS = 0b111;
/** Numbers per block of boxes: 8 MiB. */
const BLOCK_NUMBERS = 1 << 20;

/**
 * Phrases' boxes as views of shared blocks: one backing store per 8 MiB instead of one per phrase
 * (15k of them on the test split). A block is never regrown, so views stay valid.
 */
class BoxBlocks {
  private block = new Float64Array(0);
  private used = 0;

  /** A copy of `values[0, length)` in the current block. */
  copy(values: Float64Array, length: number): Float64Array {
    if (this.used + length > this.block.length) {
      this.block = new Float64Array(Math.max(BLOCK_NUMBERS, length));
      this.used = 0;
    }
    const view = this.block.subarray(this.used, this.used + length);
    view.set(values.subarray(0, length));
    this.used += length;
    return view;
  }
}

/**
 * The fast path for a prediction `{"image_id", "sentence_id", "boxes"}` in any order, other members
 * skipped: it keeps exactly what the visitor would keep, and leaves to it every element the
 * visitor would refuse or read another way (a string sentence id, a fractional or empty image id,
 * a box of 3 numbers, a repeated member, escapes).
 */
function predictionDecoder(file: string, out: FlickrPrediction[], next: { index: number }): ElementDecoder {
  const cursor = new ByteCursor();
  const blocks = new BoxBlocks();
  return (bytes, start) => {
    cursor.at(bytes, start);
    if (!cursor.take(0x7b)) return -1;
    let seen = 0;
    let imageId = "";
    let sentenceId = 0;
    const boxes: Float64Array[] = [];
    for (let more = true; more; ) {
      const field = cursor.key(FIELDS);
      if (field === GIVE_UP) return -1;
      if (field === OTHER_KEY) {
        if (!cursor.skip()) return -1;
      } else {
        // A repeated member: JSON.parse keeps the last one; the visitor decides.
        if (seen & (1 << field)) return -1;
        seen |= 1 << field;
        if (field === 0) {
          if (cursor.space() === 0x22) {
            const id = cursor.asciiString();
            if (!id) return -1;
            imageId = id;
          } else {
            if (!cursor.finite() || !Number.isInteger(cursor.value)) return -1;
            imageId = String(cursor.value);
          }
        } else if (field === 1) {
          // (A sentence id written as a string of digits is left to the visitor.)
          if (!cursor.finite() || !Number.isInteger(cursor.value) || cursor.value < 0) return -1;
          sentenceId = cursor.value;
        } else {
          if (!cursor.take(0x5b)) return -1;
          if (cursor.space() === 0x5d) cursor.pos++;
          else {
            for (let list = true; list; ) {
              const count = cursor.boxList();
              if (count < 0) return -1;
              boxes.push(blocks.copy(cursor.boxes, 4 * count));
              const c = cursor.space();
              cursor.pos++;
              if (c === 0x5d) list = false;
              else if (c !== 0x2c) return -1;
            }
          }
        }
      }
      const after = cursor.nextMember();
      if (after === undefined) return -1;
      more = after;
    }
    if (seen !== ALL_FIELDS) return -1;
    out.push({ file, at: `[${next.index}]`, imageId, sentenceId, boxes });
    next.index++;
    return cursor.pos;
  };
}
