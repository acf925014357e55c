/** MDETR's caption for an LVIS category (scripts/fine-tuning/lvis_coco_format.py, `clean_name`). */
import { PYTHON_REGEX_DOT } from "../../compat/python.js";

/** re.sub(r"\(.*\)", "", name): greedy, from the first "(" to the last ")" on its line. */
const PARENTHESES = new RegExp(`\\(${PYTHON_REGEX_DOT}*\\)`, "g");

/**
 * `bow_(weapon)` -> `"bow "`: parentheses removed greedily (`cap_(headwear)_with_(visor)` ->
 * `"cap "`), every "_" a space, then one left-to-right pass turning "  " into " " (three spaces
 * become two), and no strip: the spaces left count in the caption's length.
 */
export function cleanName(name: string): string {
  return name.replace(PARENTHESES, "").replace(/_/g, " ").replace(/ {2}/g, " ");
}
