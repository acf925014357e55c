/**
 * Flickr30k Entities box files (`Annotations/<id>.xml`), read as `get_annotations` does: every
 * `<name>` of an `<object>` with a `<bndbox>` gets that box ([xmin, ymin, xmax, ymax], integers);
 * objects without one are `nobndbox` or `scene` entities.
 */
import { XMLParser } from "fast-xml-parser";
import { InputError } from "../../core/errors.js";

export type FlickrBox = [number, number, number, number];

export interface FlickrImageAnnotation {
  width: number;
  height: number;
  /** Entity id -> its boxes, in file order. */
  boxes: Map<string, FlickrBox[]>;
  nobox: string[];
  scene: string[];
}

const parser = new XMLParser({ isArray: (name) => ["object", "name", "bndbox"].includes(name), parseTagValue: false, ignoreAttributes: true });

/** Python's int() of a tag's text: an optionally signed integer with surrounding whitespace. */
function integer(file: string, where: string, value: unknown): number {
  const text = typeof value === "string" ? value.trim() : "";
  if (!/^[+-]?\d+$/.test(text)) throw new InputError(file, where, `expected an integer, got ${JSON.stringify(value ?? null)}`);
  return Number(text);
}

export function parseFlickrAnnotation(file: string, xml: string): FlickrImageAnnotation {
  let document: { annotation?: { size?: Record<string, unknown>; object?: Record<string, unknown>[] } };
  try {
    document = parser.parse(xml, true) as typeof document;
  } catch (error) {
    // fast-xml-parser's validation messages end in ":line:column"; say it as the place.
    const message = (error as Error).message.split("\n")[0] ?? "";
    const place = /^(.*?)\.?:(\d+):(\d+)$/.exec(message);
    throw new InputError(file, place ? `line ${place[2]}, column ${place[3]}` : undefined, `not valid XML: ${place ? place[1] : message}`);
  }
  const root = document.annotation;
  if (!root) throw new InputError(file, undefined, "expected an <annotation> document");
  const size = root.size ?? {};
  const boxes = new Map<string, FlickrBox[]>();
  const nobox: string[] = [];
  const scene: string[] = [];
  (root.object ?? []).forEach((object, o) => {
    const where = `annotation.object[${o}]`;
    const names = (object["name"] as unknown[] | undefined) ?? [];
    const boxContainers = (object["bndbox"] as Record<string, unknown>[] | undefined) ?? [];
    for (const name of names) {
      const entity = String(name).trim();
      if (!entity) throw new InputError(file, `${where}.name`, "empty entity id");
      if (boxContainers.length > 0) {
        const box = boxContainers[0]!;
        const coordinates = (["xmin", "ymin", "xmax", "ymax"] as const).map((tag) => integer(file, `${where}.bndbox.${tag}`, box[tag])) as FlickrBox;
        const list = boxes.get(entity);
        if (list) list.push(coordinates);
        else boxes.set(entity, [coordinates]);
      } else {
        if (integer(file, `${where}.nobndbox`, object["nobndbox"]) > 0) nobox.push(entity);
        if (integer(file, `${where}.scene`, object["scene"]) > 0) scene.push(entity);
      }
    }
  });
  return {
    width: integer(file, "annotation.size.width", size["width"]),
    height: integer(file, "annotation.size.height", size["height"]),
    boxes,
    nobox,
    scene,
  };
}

/** The merged-box protocol (Plummer et al.): an entity's boxes become their enclosing box. */
export function mergeEntityBoxes(boxes: readonly FlickrBox[]): FlickrBox[] {
  if (boxes.length === 1) return [...boxes];
  return [[Math.min(...boxes.map((b) => b[0])), Math.min(...boxes.map((b) => b[1])), Math.max(...boxes.map((b) => b[2])), Math.max(...boxes.map((b) => b[3]))]];
}
