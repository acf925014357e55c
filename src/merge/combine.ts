/**
 * Builds one combined datapoint from the datapoints of one colour, as the body of
 * `get_refexp_groups` does: captions joined by a space (each ending in '.' or '?', a '.' added
 * where missing), spans shifted by each caption's offset and consolidated against the joined
 * caption (with its trailing space, which the reference strips only afterwards).
 */
import { codePointLength, codePoints } from "../compat/python.js";
import { consolidateSpans, shiftSpans, type Span } from "./spans.js";

export interface MemberText {
  caption: string;
  tokensNegative: readonly Span[];
  /** tokens_positive of each of the member's annotations, in order. */
  annotationSpans: readonly (readonly Span[])[];
}

export interface CombinedText {
  caption: string;
  tokensNegative: Span[];
  /** Per member, per annotation: its consolidated tokens_positive. */
  tokensPositive: Span[][][];
}

/** `set_last_char`: a caption ends in '.' or '?'. */
export function withFinalPunctuation(caption: string): string {
  return caption.endsWith(".") || caption.endsWith("?") ? caption : `${caption}.`;
}

export function combineMembers(members: readonly MemberText[]): CombinedText {
  const parts = members.map((m) => withFinalPunctuation(m.caption));
  const joined = `${parts.join(" ")} `;
  const text = codePoints(joined);
  const offsets: number[] = [];
  let offset = 0;
  for (const part of parts) {
    offsets.push(offset);
    offset += codePointLength(part) + 1;
  }
  const negatives = members.flatMap((m, i) => shiftSpans(m.tokensNegative, offsets[i]!));
  return {
    caption: joined.slice(0, -1),
    tokensNegative: consolidateSpans(negatives, text),
    tokensPositive: members.map((m, i) => m.annotationSpans.map((spans) => consolidateSpans(shiftSpans(spans, offsets[i]!), text))),
  };
}
