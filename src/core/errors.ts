/**
 * The error types every command throws. The CLI's single exit point (src/cli/main.ts) turns them into
 * exit codes: bad input or usage -> 2, anything else -> 1.
 */

/** Bad content in an input file; `where` is a JSON path such as `annotations[12].bbox`. */
export class InputError extends Error {
  override readonly name = "InputError";
  constructor(
    readonly file: string,
    readonly where: string | undefined,
    readonly detail: string,
  ) {
    super(where ? `${file}: ${where}: ${detail}` : `${file}: ${detail}`);
  }
}

/** Bad command-line usage: wrong option values, missing files, conflicting flags. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_BAD_INPUT = 2;

export function exitCodeFor(error: unknown): number {
  return error instanceof InputError || error instanceof UsageError ? EXIT_BAD_INPUT : EXIT_FAILURE;
}

/** Appends a child to a JSON path: `images` + 3 -> `images[3]`, `[3]` + `bbox` -> `[3].bbox`. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}
