/**
 * Character spans into captions, handled as MDETR's `scripts/utils/spans.py` handles them:
 * shifted into a combined caption, then consolidated (overlaps merged, ends trimmed to
 * alphanumerics, hyphenated words taken whole, twice over).
 *
 * Offsets count code points, as Python's str does (compat/python.ts).
 */

import { isAlphanumeric, type CodePoints } from "../compat/python.js";
import type { Span } from "../formats/grounding/corpus.js";

export type { Span };

export function shiftSpans(spans: readonly Span[], offset: number): Span[] {
  return spans.map(([begin, end]) => [begin + offset, end + offset]);
}

function compareSpans(a: Span, b: Span): number {
  return a[0] - b[0] || a[1] - b[1];
}

/** Merges overlapping spans (sorted first); spans that only touch stay apart. */
function mergeOverlapping(spans: readonly Span[]): Span[] {
  const sorted = [...spans].sort(compareSpans);
  const merged: Span[] = [];
  let begin: number | undefined;
  let end = -1;
  for (const [b, e] of sorted) {
    if (b >= end) {
      if (begin !== undefined) merged.push([begin, end]);
      begin = b;
    }
    end = Math.max(end, e);
  }
  if (begin !== undefined) merged.push([begin, end]);
  return merged;
}

/** Trims a span to alphanumerics and widens it to whole hyphenated words. */
function cleanSpan([b, e]: Span, caption: CodePoints): Span | undefined {
  const length = caption.length;
  let begin = b;
  let end = Math.min(e, length);
  while (begin < length && !isAlphanumeric(caption[begin]!)) begin++;
  while (end > 0 && !isAlphanumeric(caption[end - 1]!)) end--;
  if (end < length && caption[end] === "-") {
    // Up to and including the next space, as the reference does (the second pass trims it).
    const nextSpace = caption.indexOf(" ", end);
    end = nextSpace === -1 ? length : nextSpace + 1;
  }
  if (begin > 0 && caption[begin - 1] === "-") {
    const previousSpace = caption.lastIndexOf(" ", begin - 1);
    begin = previousSpace === -1 ? 0 : previousSpace + 1;
  }
  return 0 <= begin && begin < end && end <= length ? [begin, end] : undefined;
}

/** `consolidate_spans(spans, caption)`: two rounds of merge-then-clean. */
export function consolidateSpans(spans: readonly Span[], caption: CodePoints): Span[] {
  let current: readonly Span[] = spans;
  for (let round = 0; round < 2; round++) {
    current = mergeOverlapping(current)
      .map((span) => cleanSpan(span, caption))
      .filter((span): span is Span => span !== undefined);
  }
  return current as Span[];
}
