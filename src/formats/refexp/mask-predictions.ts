/**
 * Mask predictions of referring-expression segmentation models as a COCO results list:
 * `[{image_id, segmentation, score?}, ...]`, `image_id` an expression's id, `segmentation`
 * polygons, uncompressed or compressed RLE. An expression with several entries is scored by its
 * highest-scoring one, the first in file order on ties; each of them then needs a `score`. Only
 * that entry is kept; every entry is checked (RLE sizes against the expression's image included).
 */
import { InputError, childPath } from "../../core/errors.js";
import { readJson, type JsonReadSettings } from "../../json/reader.js";
import { finiteNumberProblem, integerProblem, isRecord, objectProblem } from "../../json/validate.js";
import { checkRleSize, checkSegmentation, type Segmentation } from "../segmentation.js";

export interface ChosenMask {
  /** `[12]`: the entry's place, for messages (its mask at `[12].segmentation`). */
  at: string;
  segmentation: Segmentation;
  score: number | undefined;
}

export interface MaskPredictions {
  file: string;
  /** Per expression: the entry that counts, or undefined when the file has none for it. */
  chosen: (ChosenMask | undefined)[];
  entries: number;
}

/** What the reader needs of the expressions: ids, and image sizes for the RLE checks. */
export interface MaskTargets {
  /** The annotations file, named in messages about unknown ids. */
  file: string;
  indexOfId: ReadonlyMap<string, number>;
  height: Uint32Array;
  width: Uint32Array;
}

export async function readMaskPredictions(file: string, targets: MaskTargets, settings: JsonReadSettings = {}): Promise<MaskPredictions> {
  const chosen: (ChosenMask | undefined)[] = new Array<ChosenMask | undefined>(targets.height.length).fill(undefined);
  let entries = 0;
  const result = await readJson(
    file,
    {
      "$.*": (entry, key) => {
        const at = childPath("", key);
        if (typeof key !== "number") throw new InputError(file, undefined, `${LIST_EXPECTED}, got an object`);
        if (!isRecord(entry)) throw new InputError(file, at, objectProblem(entry) ?? "");
        entries++;
        const idProblem = integerProblem(entry["image_id"]);
        if (idProblem) throw new InputError(file, `${at}.image_id`, idProblem);
        const id = String(entry["image_id"]);
        const e = targets.indexOfId.get(id);
        if (e === undefined) throw new InputError(file, `${at}.image_id`, `no expression with id ${id} in ${targets.file} (images[].id)`);
        const value = entry["segmentation"];
        if (value === undefined) throw new InputError(file, `${at}.segmentation`, "missing (each entry is a mask: polygons or an RLE)");
        const segmentation = checkSegmentation(file, `${at}.segmentation`, value);
        // An RLE must be the image's size (polygons are rasterised at it when chosen); a compressed
        // one is checked without decoding its counts, which only the chosen entry needs.
        if (segmentation.kind !== "polygons") checkRleSize(file, `${at}.segmentation`, segmentation, targets.height[e]!, targets.width[e]!);
        const score = entry["score"];
        if (score !== undefined) {
          const problem = finiteNumberProblem(score);
          if (problem) throw new InputError(file, `${at}.score`, problem);
        }
        const current = chosen[e];
        if (current === undefined) {
          chosen[e] = { at, segmentation, score: score as number | undefined };
          return;
        }
        const unscored = current.score === undefined ? current.at : score === undefined ? at : undefined;
        if (unscored !== undefined) {
          throw new InputError(file, `${unscored}.score`, `missing: expression ${id} has several entries (${current.at} and ${at}), and the highest score picks the one that counts`);
        }
        // Strictly greater: on equal scores the first entry in the file stays.
        if ((score as number) > current.score!) chosen[e] = { at, segmentation, score: score as number };
      },
    },
    settings,
  );
  const root = result.containers.get("$");
  if (root !== "array") throw new InputError(file, undefined, `${LIST_EXPECTED}, got ${root === "object" ? "an object" : root === "other" ? "a scalar" : "nothing"}`);
  return { file, chosen, entries };
}

const LIST_EXPECTED = "expected a COCO results list [{image_id, segmentation, score}, ...]";

