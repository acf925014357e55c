/**
 * Flickr30k Entities sentence files (`Sentences/<id>.txt`), parsed as the dataset's own
 * `get_sentence_data` (flickr30k_entities_utils.py, vendored in MDETR's flickr_eval.py) parses
 * them: one sentence per non-empty line, phrases marked `[/EN#<entity>/<type>[/<type>...] words]`.
 */

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

export function parseSentences(text: string): SentenceData[] {
  const sentences: SentenceData[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    const words: string[] = [];
    const phrases: Phrase[] = [];
    let current: string[] | undefined;
    let opening: Omit<Phrase, "phrase"> | undefined;
    // Python's str.split(): runs of whitespace separate words.
    for (let token of line.split(/\s+/).filter(Boolean)) {
      if (current) {
        if (token.endsWith("]")) {
          token = token.slice(0, -1);
          current.push(token);
          phrases.push({ ...opening!, phrase: current.join(" ") });
          current = undefined;
        } else current.push(token);
        words.push(token);
      } else if (token.startsWith("[")) {
        const parts = token.split("/");
        current = [];
        opening = { firstWordIndex: words.length, entityId: (parts[1] ?? "").slice(3), types: parts.slice(2) };
      } else words.push(token);
    }
    sentences.push({ sentence: words.join(" "), phrases });
  }
  return sentences;
}
