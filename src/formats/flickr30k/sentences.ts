/**
 * Flickr30k Entities sentence files (`Sentences/<id>.txt`), parsed as the dataset's own
 * `get_sentence_data` (flickr30k_entities_utils.py, vendored in MDETR's flickr_eval.py) parses
 * them: one sentence per non-empty line, phrases marked `[/EN#<entity>/<type>[/<type>...] words]`.
 */
import { pythonSplit, universalNewlines } from "../../compat/python.js";
import { InputError } from "../../core/errors.js";

export interface Phrase {
  /** Index of the phrase's first word among the sentence's words. */
  firstWordIndex: number;
  phrase: string;
  /** The entity id (EN#123 -> "123"). */
  entityId: string;
  /** Coarse types (people, clothing, bodyparts, animals, vehicles, instruments, scene, other); a phrase may have several. */
  types: string[];
}

export interface SentenceData {
  sentence: string;
  phrases: Phrase[];
}

const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const SLASH = 0x2f;
const HEAD_START = "[/EN#";

/**
 * A phrase's opening token, `[/EN#<digits>/<type>[/<type>...]` with every type non-empty and
 * without "/" or "]": its entity id and types (as the reference's `token.split("/")` gives them),
 * or undefined for any other token.
 */
function phraseHead(token: string): { entityId: string; types: string[] } | undefined {
  if (!token.startsWith(HEAD_START)) return undefined;
  let i = HEAD_START.length;
  while (i < token.length && token.charCodeAt(i) >= 0x30 && token.charCodeAt(i) <= 0x39) i++;
  if (i === HEAD_START.length || i === token.length || token.charCodeAt(i) !== SLASH) return undefined;
  const typesStart = i + 1;
  while (i < token.length) {
    let end = i + 1;
    while (end < token.length && token.charCodeAt(end) !== SLASH && token.charCodeAt(end) !== CLOSE_BRACKET) end++;
    if (end === i + 1 || (end < token.length && token.charCodeAt(end) === CLOSE_BRACKET)) return undefined;
    i = end;
  }
  // split() sizes the array to its parts (one grown by push holds 17 slots: 2.5 MB more on a
  // test split).
  return { entityId: token.slice(HEAD_START.length, typesStart - 1), types: token.slice(typesStart).split("/") };
}

function lineError(file: string, index: number, detail: string): InputError {
  return new InputError(file, `line ${index + 1}`, detail);
}

/**
 * Parses one sentence file as get_sentence_data does, refusing the markup it would misread (it
 * crashes on some and silently drops phrases or keeps markup as words on the rest): a line that
 * ends inside a phrase, a `[` while a phrase is open, a `]` with none open, and a malformed head.
 * Errors name `file` and the line (1-based, counting empty lines).
 */
export function parseSentences(file: string, text: string): SentenceData[] {
  const sentences: SentenceData[] = [];
  const lines = universalNewlines(text).split("\n");
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    if (!line) continue;
    const words: string[] = [];
    const phrases: Phrase[] = [];
    let current: string[] | undefined;
    /** The open phrase's first word index, entity and types, and its first token (for messages). */
    let firstWordIndex = 0;
    let entityId = "";
    let types: string[] = [];
    let head = "";
    for (let token of pythonSplit(line)) {
      if (current) {
        if (token.charCodeAt(0) === OPEN_BRACKET) throw lineError(file, index, `${JSON.stringify(token)} opens a phrase inside the open phrase ${JSON.stringify(head)} (phrases do not nest)`);
        if (token.charCodeAt(token.length - 1) === CLOSE_BRACKET) {
          token = token.slice(0, -1);
          current.push(token);
          phrases.push({ firstWordIndex, entityId, types, phrase: current.join(" ") });
          current = undefined;
        } else current.push(token);
        words.push(token);
      } else if (token.charCodeAt(0) === OPEN_BRACKET) {
        const parsed = phraseHead(token);
        if (!parsed) throw lineError(file, index, `expected a phrase to open with [/EN#<id>/<type>[/<type>...] and then its words, got ${JSON.stringify(token)}`);
        current = [];
        firstWordIndex = words.length;
        entityId = parsed.entityId;
        types = parsed.types;
        head = token;
      } else if (token.includes("]")) {
        throw lineError(file, index, `${JSON.stringify(token)} closes a phrase, but none is open`);
      } else words.push(token);
    }
    if (current) throw lineError(file, index, `the phrase ${JSON.stringify(head)} is not closed: the line ends before its "]"`);
    sentences.push({ sentence: words.join(" "), phrases });
  }
  return sentences;
}

/**
 * A phrase's character span in its caption as MDETR's scripts/pre-training/flickr_combined.py
 * computes it: the lengths of the caption's whitespace-split words before the phrase, plus one
 * space each, then the phrase's length (code points). It does not search the text ("a doghouse"
 * may come before "a dog"); after an empty word (a lone "]") the words shift and the script's
 * assertion fails: undefined then, and the caller fails the same way.
 */
export function phraseSpan(caption: string, phrase: Phrase): [number, number] | undefined {
  const words = pythonSplit(caption);
  const before = words.slice(0, phrase.firstWordIndex);
  const begin = before.reduce((sum, w) => sum + [...w].length, 0) + phrase.firstWordIndex;
  const end = begin + [...phrase.phrase].length;
  return [...caption].slice(begin, end).join("") === phrase.phrase ? [begin, end] : undefined;
}
