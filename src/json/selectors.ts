/** The JSONPath subset callers use to say which containers' elements they want. */

export type JsonKey = string | number;
/**
 * Called for each element of a selected container. Array elements come in document order. Object
 * members may not: JSON.parse puts integer-like keys first within what it parses at once, so
 * callers must not depend on member order. A key given twice in a selected object, or a selected
 * container given twice at the top level, is refused by the streaming engines (RepeatedKey).
 */
export type JsonVisitor = (value: unknown, key: JsonKey) => void;

export type ContainerKind = "array" | "object" | "other" | "missing";

export interface Selector {
  /** `$.images.*` -> container `$.images`, segments ["images"]. */
  container: string;
  segments: string[];
  visit: JsonVisitor;
}

export function parseSelectors(select: Record<string, JsonVisitor>): Selector[] {
  return Object.entries(select).map(([path, visit]) => {
    const parts = path.split(".");
    if (parts[0] !== "$" || parts[parts.length - 1] !== "*" || parts.slice(1, -1).includes("*")) {
      throw new Error(`unsupported selector ${path}: use $.*, $.key.* or $.a.b.*`);
    }
    const segments = parts.slice(1, -1);
    return { container: ["$", ...segments].join("."), segments, visit };
  });
}

export function kindOf(value: unknown): ContainerKind {
  if (Array.isArray(value)) return "array";
  if (value !== null && typeof value === "object") return "object";
  return "other";
}

/** Valid JSON the reader refuses, with its place: a key given twice in a streamed object. */
export class RepeatedKey extends Error {
  constructor(
    readonly where: string,
    detail: string,
  ) {
    super(detail);
  }
}

export const REPEATED_KEY =
  "a key given twice in one object (JSON readers disagree on which value counts; Python keeps the last, others the first)";
