/** Text for messages. */

/** A short list of ids for an error message: "768, 769, 770 and 9 more". */
export function listSome(ids: readonly string[], total = ids.length, shown = 5): string {
  const head = ids.slice(0, shown).join(", ");
  return total > shown ? `${head} and ${total - shown} more` : head;
}

/** A message on one line: each line break, with the spaces around it, becomes one space. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ");
}
