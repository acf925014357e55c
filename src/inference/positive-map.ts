/**
 * Which prompt tokens a character span points at, as MDETR's `create_positive_map`
 * (datasets/coco.py) and GLIP's `create_positive_dict` (identical) compute it: the heads of
 * Flickr30k phrases and of chunked LVIS prompts score a box by these tokens (the infer-bench
 * contract's rules T1-T4).
 */
import type { EncodedPrompt } from "./tokenizer.js";

/**
 * tokenizers' `Encoding::char_to_token`: the first token whose span [start, end) holds `position`.
 * Special tokens (span (0, 0)) and lone-space tokens (an empty span) never do; nor does a position
 * on a space, past the end, or below 0 (where Python's binding raises and MDETR's `except` gives None).
 */
export function charToToken(prompt: EncodedPrompt, position: number): number | undefined {
  if (position < 0) return undefined;
  for (let t = 0; t < prompt.offsets.length; t++) {
    if (prompt.special[t]) continue;
    const [start, end] = prompt.offsets[t]!;
    if (start <= position && position < end) return t;
  }
  return undefined;
}

/**
 * The positive tokens of spans [begin, end): the first token at begin (else begin + 1, else
 * begin + 2) through the token at end - 1 (else end - 2, else end - 3), every index between
 * included, empty-span tokens too; a span whose either end finds no token adds nothing. Token
 * indices ascending, each once.
 */
export function positiveTokens(prompt: EncodedPrompt, spans: readonly (readonly [number, number])[]): number[] {
  const found = new Set<number>();
  const first = (...positions: number[]) => {
    for (const p of positions) {
      const t = charToToken(prompt, p);
      if (t !== undefined) return t;
    }
    return undefined;
  };
  for (const [begin, end] of spans) {
    const from = first(begin, begin + 1, begin + 2);
    const to = first(end - 1, end - 2, end - 3);
    if (from === undefined || to === undefined) continue;
    // positive_map[j, beg_pos : end_pos + 1].fill_(1): nothing when the ends cross.
    for (let t = from; t <= to; t++) found.add(t);
  }
  return [...found].sort((a, b) => a - b);
}
