/**
 * Flickr30k Entities box files (`Annotations/<id>.xml`), read as MDETR's `_get_annotations`
 * (datasets/flickr_eval.py) reads them with ElementTree: every `<name>` of an `<object>` with a
 * `<bndbox>` gets that (first) box ([xmin, ymin, xmax, ymax], integers); objects without one are
 * `nobndbox` or `scene` entities.
 *
 * The file is checked as strictly as an XML parser checks well-formedness (saxes: tags, entities,
 * characters, one root), but only the few texts above are kept: no document is built, which is
 * most of what a DOM-building parser spends on a split's thousand files.
 */
import { createRequire } from "node:module";
import type { SaxesParser, SaxesTagPlain } from "saxes";
import { InputError } from "../../core/errors.js";

// saxes is CommonJS: required, it loads in 4 ms; imported, Node's ESM loader first scans its 74 KB
// for named exports (12-24 ms here), a tenth of the whole split's reading.
const { SaxesParser: Parser } = createRequire(import.meta.url)("saxes") as typeof import("saxes");

export type FlickrBox = [number, number, number, number];

export interface FlickrImageAnnotation {
  width: number;
  height: number;
  /** Entity id -> its boxes, in file order. */
  boxes: Map<string, FlickrBox[]>;
  nobox: string[];
  scene: string[];
}

/** The texts an `<object>` holds that the reference reads (trimmed); absent ones undefined. */
interface ObjectTexts {
  names: string[];
  /** The first `<bndbox>`'s xmin, ymin, xmax, ymax; undefined without a bndbox. */
  box: (string | undefined)[] | undefined;
  nobndbox: string | undefined;
  scene: string | undefined;
}

/** What one file holds of use, as texts, and the first problem found in its shape. */
interface DocumentTexts {
  root: string;
  size: { width: string | undefined; height: string | undefined; count: number };
  objects: ObjectTexts[];
  problem: { where: string; detail: string } | undefined;
}

const COORDINATES = ["xmin", "ymin", "xmax", "ymax"] as const;

/** Python's int() of a tag's text: an optionally signed integer with surrounding whitespace. */
function integer(file: string, where: string, value: string | undefined): number {
  const text = value?.trim() ?? "";
  if (!/^[+-]?\d+$/.test(text)) throw new InputError(file, where, `expected an integer, got ${JSON.stringify(value ?? null)}`);
  return Number(text);
}

/**
 * A reader of annotation files that reuses one XML parser: `read(file, xml)` for each file.
 * Elements are followed by depth: annotation (1) > size | object (2) > width, height | name,
 * bndbox, nobndbox, scene (3) > xmin ... (4); the text of a leaf that is read is collected.
 */
export class FlickrAnnotationReader {
  private parser = this.makeParser();
  private document: DocumentTexts = FlickrAnnotationReader.empty();
  /** The names of the open elements, outermost first, and the lines their start tags end on. */
  private readonly open: string[] = [];
  private readonly openLines: number[] = [];
  /** The element closed last, and the line it opened on (for messages). */
  private lastClosed = { name: "", line: 0 };
  /** The leaf whose text is being collected (its depth), or 0; and the text so far. */
  private leafDepth = 0;
  private leafWhere = "";
  private text = "";
  /** Where a collected text goes. */
  private store: ((text: string) => void) | undefined;
  /** How many `<bndbox>` the current object had so far (only the first is read). */
  private boxes = 0;

  private static empty(): DocumentTexts {
    return { root: "", size: { width: undefined, height: undefined, count: 0 }, objects: [], problem: undefined };
  }

  private makeParser(): SaxesParser {
    const parser = new Parser();
    parser.on("opentag", (tag: SaxesTagPlain) => this.opened(tag.name));
    parser.on("closetag", () => this.closed());
    parser.on("text", (text: string) => {
      if (this.leafDepth === this.open.length) this.text += text;
    });
    parser.on("cdata", (text: string) => {
      if (this.leafDepth === this.open.length) this.text += text;
    });
    return parser;
  }

  private problem(where: string, detail: string): void {
    this.document.problem ??= { where, detail };
  }

  /** Starts collecting a leaf's text for `store`, unless it was seen before (`seen`). */
  private collect(where: string, tag: string, seen: boolean, store: (text: string) => void): void {
    if (seen) this.problem(where, `expected one <${tag}>, got several`);
    this.leafDepth = this.open.length;
    this.leafWhere = where;
    this.text = "";
    this.store = store;
  }

  private opened(name: string): void {
    const doc = this.document;
    this.open.push(name);
    this.openLines.push(this.parser.line);
    const depth = this.open.length;
    if (this.leafDepth > 0) {
      // An element inside a text the reference reads (ElementTree's .text would stop there).
      this.problem(this.leafWhere, `expected text, got an element <${name}>`);
      return;
    }
    if (depth === 1) doc.root = name;
    if (doc.root !== "annotation" || depth < 2) return;
    const parent = this.open[depth - 2];
    const object = doc.objects.at(-1);
    const where = () => `annotation.object[${doc.objects.length - 1}]`;
    if (depth === 2) {
      if (name === "size" && ++doc.size.count > 1) this.problem("annotation.size", "expected one <size>, got several");
      if (name === "object") {
        doc.objects.push({ names: [], box: undefined, nobndbox: undefined, scene: undefined });
        this.boxes = 0;
      }
    } else if (depth === 3 && parent === "size" && doc.size.count === 1) {
      if (name === "width") this.collect("annotation.size.width", name, doc.size.width !== undefined, (t) => (doc.size.width = t));
      else if (name === "height") this.collect("annotation.size.height", name, doc.size.height !== undefined, (t) => (doc.size.height = t));
    } else if (depth === 3 && parent === "object" && object) {
      if (name === "name") this.collect(`${where()}.name`, name, false, (t) => object.names.push(t));
      else if (name === "bndbox" && ++this.boxes === 1) object.box = [undefined, undefined, undefined, undefined];
      else if (name === "nobndbox") this.collect(`${where()}.nobndbox`, name, object.nobndbox !== undefined, (t) => (object.nobndbox = t));
      else if (name === "scene") this.collect(`${where()}.scene`, name, object.scene !== undefined, (t) => (object.scene = t));
    } else if (depth === 4 && parent === "bndbox" && this.open[1] === "object" && this.boxes === 1 && object?.box) {
      const k = (COORDINATES as readonly string[]).indexOf(name);
      const box = object.box;
      if (k >= 0) this.collect(`${where()}.bndbox.${name}`, name, box[k] !== undefined, (t) => (box[k] = t));
    }
  }

  private closed(): void {
    if (this.leafDepth === this.open.length) {
      this.store!(this.text.trim());
      this.leafDepth = 0;
      this.store = undefined;
    }
    this.lastClosed = { name: this.open.pop()!, line: this.openLines.pop()! };
  }

  /** The annotation of one file; `file` names it in errors. */
  read(file: string, xml: string): FlickrImageAnnotation {
    this.document = FlickrAnnotationReader.empty();
    this.open.length = 0;
    this.openLines.length = 0;
    this.leafDepth = 0;
    try {
      this.parser.write(xml).close();
    } catch (error) {
      // A parser stopped mid-file is not reused.
      this.parser = this.makeParser();
      throw this.xmlError(file, xml, (error as Error).message);
    }
    return this.annotation(file, this.document);
  }

  /** saxes says `line:column: message` (column from 0); say it as the place, 1-based. */
  private xmlError(file: string, xml: string, message: string): InputError {
    const place = /^(\d+):(\d+): (.*?)\.?$/.exec(message);
    const line = Number(place?.[1]);
    const column = Number(place?.[2]) + 1;
    // (An error saxes found before the `&` is the first one.)
    const ampersand = bareAmpersand(xml);
    if (ampersand && !(line < ampersand.line || (line === ampersand.line && column < ampersand.column))) {
      return new InputError(file, `line ${ampersand.line}, column ${ampersand.column}`, "not valid XML: a '&' that starts no entity reference (&name; or &#number;)");
    }
    if (!place) return new InputError(file, undefined, `not valid XML: ${message}`);
    let detail = place[3]!;
    // saxes closes the innermost element before it sees that the end tag is another's: that
    // element is the one left unclosed.
    if (detail === "unexpected close tag") detail += ` (<${this.lastClosed.name}>, opened on line ${this.lastClosed.line}, is not closed)`;
    return new InputError(file, `line ${line}, column ${column}`, `not valid XML: ${detail}`);
  }

  private annotation(file: string, doc: DocumentTexts): FlickrImageAnnotation {
    if (doc.root !== "annotation") throw new InputError(file, undefined, "expected an <annotation> document");
    if (doc.problem) throw new InputError(file, doc.problem.where, doc.problem.detail);
    const boxes = new Map<string, FlickrBox[]>();
    const nobox: string[] = [];
    const scene: string[] = [];
    doc.objects.forEach((object, o) => {
      const where = `annotation.object[${o}]`;
      for (const entity of object.names) {
        if (!entity) throw new InputError(file, `${where}.name`, "empty entity id");
        if (object.box) {
          const box = object.box;
          const coordinates = COORDINATES.map((tag, k) => integer(file, `${where}.bndbox.${tag}`, box[k])) as FlickrBox;
          const list = boxes.get(entity);
          if (list) list.push(coordinates);
          else boxes.set(entity, [coordinates]);
        } else {
          if (integer(file, `${where}.nobndbox`, object.nobndbox) > 0) nobox.push(entity);
          if (integer(file, `${where}.scene`, object.scene) > 0) scene.push(entity);
        }
      }
    });
    return {
      width: integer(file, "annotation.size.width", doc.size.width),
      height: integer(file, "annotation.size.height", doc.size.height),
      boxes,
      nobox,
      scene,
    };
  }
}

/**
 * The first `&` in text or an attribute that starts no entity reference, as a 1-based place.
 * saxes reads an entity up to the next `;` wherever it is, so its own message for a lone `&`
 * names a place far after it (often the end of the file). Only for messages: comments, CDATA
 * sections and processing instructions, where `&` is allowed, are blanked first.
 */
function bareAmpersand(xml: string): { line: number; column: number } | undefined {
  const blanked = xml.replace(/<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>/g, (m) => m.replace(/[^\n]/g, " "));
  const at = blanked.search(/&(?![A-Za-z_:][\w.:-]*;|#[0-9]+;|#x[0-9A-Fa-f]+;)/);
  if (at < 0) return undefined;
  const before = xml.slice(0, at).split("\n");
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

/** One annotation file (a reader of its own: for many files, reuse one FlickrAnnotationReader). */
export function parseFlickrAnnotation(file: string, xml: string): FlickrImageAnnotation {
  return new FlickrAnnotationReader().read(file, xml);
}

/** The merged-box protocol (Plummer et al.): an entity's boxes become their enclosing box. */
export function mergeEntityBoxes(boxes: readonly FlickrBox[]): FlickrBox[] {
  if (boxes.length === 1) return [...boxes];
  return [[Math.min(...boxes.map((b) => b[0])), Math.min(...boxes.map((b) => b[1])), Math.max(...boxes.map((b) => b[2])), Math.max(...boxes.map((b) => b[3]))]];
}
