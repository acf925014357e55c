/** The JSONPath subset callers use to say which containers' elements they want. */

export type JsonKey = string | number;
/**
 * Called for each element of a selected container. Array elements come in document order. Object
 * members may not: JSON.parse puts integer-like keys first within what it parses at once, so
 * callers must not depend on member order; a repeated key may be visited more than once, and its
 * last visit carries its last value (what JSON.parse keeps).
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
