/**
 * From one image's model outputs to detections, as MDETR's PostProcess and demo do: boxes from
 * relative (cx, cy, w, h) to absolute [x1, y1, x2, y2] in original pixels; a box score from the
 * token logits; and for each kept box, the prompt tokens it points at, as character spans and a
 * phrase.
 */
import { codePoints } from "../compat/python.js";
import { InputError } from "../core/errors.js";
import type { EncodedPrompt } from "./tokenizer.js";

/**
 * mdetr: softmax over all T positions, the last being "no object"; box score = 1 - P(no object)
 * (MDETR's PostProcess). sigmoid: per-token sigmoid; box score = max over the prompt's tokens
 * (GLIP, Grounding DINO).
 */
export type Scoring = "mdetr" | "sigmoid";

export interface Detection {
  bbox: [number, number, number, number];
  score: number;
  spans: [number, number][];
  phrase: string;
}

export interface PostprocessOptions {
  scoring: Scoring;
  threshold: number;
  tokenThreshold: number;
  /** GLIP-style prompts: each box is labelled with the phrase whose tokens score highest. */
  phrases?: { text: string; span: [number, number] }[];
}

export interface ImageOutputs {
  /** [Q, 4] relative cx, cy, w, h. */
  boxes: Float32Array;
  /** [Q, T] token logits. */
  logits: Float32Array;
  queries: number;
  positions: number;
}

/** Per-token probabilities of one query (length T), by the scoring rule. */
export function tokenProbabilities(logits: Float32Array, scoring: Scoring): Float64Array {
  const probabilities = new Float64Array(logits.length);
  if (scoring === "sigmoid") {
    for (let t = 0; t < logits.length; t++) probabilities[t] = 1 / (1 + Math.exp(-logits[t]!));
    return probabilities;
  }
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  let sum = 0;
  for (let t = 0; t < logits.length; t++) sum += probabilities[t] = Math.exp(logits[t]! - max);
  for (let t = 0; t < logits.length; t++) probabilities[t]! /= sum;
  return probabilities;
}

/**
 * Prompt token positions that may carry a box: the text's tokens, those with a character span;
 * never special ones, nor a lone space's token (an empty span), which stands for no word.
 */
function promptPositions(prompt: EncodedPrompt, positions: number): number[] {
  const usable: number[] = [];
  for (let t = 0; t < Math.min(prompt.ids.length, positions); t++) {
    const [begin, end] = prompt.offsets[t]!;
    if (!prompt.special[t] && end > begin) usable.push(t);
  }
  return usable;
}

/** Tokens separated only by whitespace join one span; phrase = span texts joined by a space. */
export function spansOfTokens(prompt: EncodedPrompt, tokens: readonly number[]): { spans: [number, number][]; phrase: string } {
  const text = codePoints(prompt.text);
  const slice = (b: number, e: number) => (typeof text === "string" ? text.slice(b, e) : text.slice(b, e).join(""));
  const spans: [number, number][] = [];
  for (const t of tokens) {
    const [begin, end] = prompt.offsets[t]!;
    if (end <= begin) continue;
    const last = spans[spans.length - 1];
    // Byte-level BPE splits one character (CJK, emoji) into tokens with the same offsets: overlaps join too.
    if (last && (begin <= last[1] || slice(last[1], begin).trim() === "")) last[1] = Math.max(last[1], end);
    else spans.push([begin, end]);
  }
  return { spans, phrase: spans.map(([b, e]) => slice(b, e)).join(" ") };
}

export function postprocessImage(outputs: ImageOutputs, prompt: EncodedPrompt, size: { width: number; height: number }, options: PostprocessOptions): Detection[] {
  const { queries, positions } = outputs;
  const usable = promptPositions(prompt, options.scoring === "mdetr" ? positions - 1 : positions);
  const detections: Detection[] = [];
  for (let q = 0; q < queries; q++) {
    const probabilities = tokenProbabilities(outputs.logits.subarray(q * positions, (q + 1) * positions), options.scoring);
    let score: number;
    if (options.scoring === "mdetr") score = 1 - probabilities[positions - 1]!;
    else score = usable.reduce((best, t) => Math.max(best, probabilities[t]!), 0);
    if (!(score >= options.threshold)) continue;
    const [cx, cy, w, h] = outputs.boxes.subarray(4 * q, 4 * q + 4) as unknown as [number, number, number, number];
    const bbox: Detection["bbox"] = [(cx - w / 2) * size.width, (cy - h / 2) * size.height, (cx + w / 2) * size.width, (cy + h / 2) * size.height];
    const tokens = usable.filter((t) => probabilities[t]! >= options.tokenThreshold);
    const { spans, phrase } = spansOfTokens(prompt, tokens);
    detections.push({ bbox, score, spans, phrase: options.phrases ? bestPhrase(prompt, usable, probabilities, options.phrases) : phrase });
  }
  return detections.sort((a, b) => b.score - a.score);
}

/** The phrase whose tokens reach the highest probability for this box. */
function bestPhrase(prompt: EncodedPrompt, usable: readonly number[], probabilities: Float64Array, phrases: NonNullable<PostprocessOptions["phrases"]>): string {
  let best = "";
  let bestProbability = -1;
  for (const t of usable) {
    const [begin, end] = prompt.offsets[t]!;
    const phrase = phrases.find(({ span }) => begin < span[1] && end > span[0]);
    if (phrase && probabilities[t]! > bestProbability) {
      bestProbability = probabilities[t]!;
      best = phrase.text;
    }
  }
  return best;
}

/** Query q's box as [x1, y1, x2, y2] in pixels of a picture of `size` (MDETR's PostProcess, no clipping). */
export function queryBox(outputs: ImageOutputs, q: number, size: { width: number; height: number }): [number, number, number, number] {
  const [cx, cy, w, h] = outputs.boxes.subarray(4 * q, 4 * q + 4) as unknown as [number, number, number, number];
  return [(cx - w / 2) * size.width, (cy - h / 2) * size.height, (cx + w / 2) * size.width, (cy + h / 2) * size.height];
}

/**
 * Every query's box and score, in query order (no threshold): mdetr 1 - P(no object); sigmoid the
 * highest token probability over the prompt's tokens (infer dir's rule).
 */
export function allQueries(outputs: ImageOutputs, prompt: EncodedPrompt, size: { width: number; height: number }, scoring: Scoring): { boxes: [number, number, number, number][]; scores: Float64Array } {
  const { queries, positions } = outputs;
  const usable = promptPositions(prompt, scoring === "mdetr" ? positions - 1 : positions);
  const scores = new Float64Array(queries);
  const boxes: [number, number, number, number][] = [];
  const { logits } = outputs;
  for (let q = 0; q < queries; q++) {
    const row = q * positions;
    if (scoring === "mdetr") {
      // 1 - softmax(...)[T - 1], without the probabilities of the other positions (LVIS: 1,203 prompts a picture).
      let max = -Infinity;
      for (let t = 0; t < positions; t++) if (logits[row + t]! > max) max = logits[row + t]!;
      let sum = 0;
      for (let t = 0; t < positions; t++) sum += Math.exp(logits[row + t]! - max);
      scores[q] = 1 - Math.exp(logits[row + positions - 1]! - max) / sum;
    } else {
      let best = 0;
      for (const t of usable) best = Math.max(best, 1 / (1 + Math.exp(-logits[row + t]!)));
      scores[q] = best;
    }
    boxes.push(queryBox(outputs, q, size));
  }
  return { boxes, scores };
}

/**
 * GLIP's chunked scores (convert_grounding_to_od_logits_v2, SCORE_AGG "MEAN"): per category of the
 * prompt and per query, the mean of the query's token probabilities over the category's positive
 * tokens; a category without one gets none (NaN). Rows: categories in prompt order; columns: queries.
 */
export function meanOverTokens(outputs: ImageOutputs, scoring: Scoring, tokensOf: readonly (readonly number[])[]): Float64Array {
  const { queries, positions } = outputs;
  const scores = new Float64Array(tokensOf.length * queries);
  for (let q = 0; q < queries; q++) {
    const probabilities = tokenProbabilities(outputs.logits.subarray(q * positions, (q + 1) * positions), scoring);
    tokensOf.forEach((tokens, c) => {
      let sum = 0;
      for (const t of tokens) sum += probabilities[t]!;
      scores[c * queries + q] = tokens.length > 0 ? sum / tokens.length : NaN;
    });
  }
  return scores;
}

/** A model's score that is NaN or infinite would be written as invalid JSON, or rank nowhere: refuse it. */
export function requireFiniteScores(model: string, scores: ArrayLike<number>, picture: string): void {
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i]!)) throw new InputError(model, undefined, `gave a score of ${scores[i]} on ${picture} (query ${i}): not a finite number`);
  }
}
