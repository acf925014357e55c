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
/** The leaves whose text the reference reads (`FlickrAnnotationReader.leaf`). */
const LEAVES = ["width", "height", "name", "nobndbox", "scene", ...COORDINATES] as const;
const WIDTH = 0;
const HEIGHT = 1;
const NAME = 2;
const NOBNDBOX = 3;
const SCENE = 4;
const XMIN = 5;

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
  private lastClosedName = "";
  private lastClosedLine = 0;
  /** The leaf whose text is being collected (LEAVES' index) and its depth (0: none); the text so far. */
  private leaf = 0;
  private leafDepth = 0;
  private text = "";
  /** How many `<bndbox>` the current object had so far (only the first is read). */
  private boxes = 0;

  private static empty(): DocumentTexts {
    return { root: "", size: { width: undefined, height: undefined, count: 0 }, objects: [], problem: undefined };
  }

  private makeParser(): SaxesParser {
    const parser = new Parser();
    parser.on("opentag", (tag: SaxesTagPlain) => this.opened(tag.name));
    parser.on("closetag", () => this.closed());
    // A leaf's text, as character data or CDATA alike (ElementTree's .text joins both).
    const collect = (text: string) => {
      if (this.leafDepth === this.open.length) this.text += text;
    };
    parser.on("text", collect);
    parser.on("cdata", collect);
    return parser;
  }

  private problem(where: string, detail: string): void {
    this.document.problem ??= { where, detail };
  }

  /** A leaf's place, as messages name it (built only for a message). */
  private where(leaf: number): string {
    const object = `annotation.object[${this.document.objects.length - 1}]`;
    return leaf === WIDTH ? "annotation.size.width" : leaf === HEIGHT ? "annotation.size.height" : leaf >= XMIN ? `${object}.bndbox.${COORDINATES[leaf - XMIN]}` : `${object}.${LEAVES[leaf]}`;
  }

  /** The text a leaf holds so far (undefined: none yet; a name may come several times). */
  private value(leaf: number): string | undefined {
    const doc = this.document;
    const object = doc.objects.at(-1);
    if (leaf === WIDTH) return doc.size.width;
    if (leaf === HEIGHT) return doc.size.height;
    if (leaf === NOBNDBOX) return object?.nobndbox;
    if (leaf === SCENE) return object?.scene;
    return leaf >= XMIN ? object?.box?.[leaf - XMIN] : undefined;
  }

  private store(leaf: number, text: string): void {
    const doc = this.document;
    const object = doc.objects.at(-1)!;
    if (leaf === WIDTH) doc.size.width = text;
    else if (leaf === HEIGHT) doc.size.height = text;
    else if (leaf === NAME) object.names.push(text);
    else if (leaf === NOBNDBOX) object.nobndbox = text;
    else if (leaf === SCENE) object.scene = text;
    else object.box![leaf - XMIN] = text;
  }

  /** The leaf the reference reads that `name` opens here, or -1. */
  private leafOf(name: string, depth: number): number {
    const doc = this.document;
    if (doc.root !== "annotation" || depth < 3) return -1;
    const parent = this.open[depth - 2];
    if (depth === 3 && parent === "size") return doc.size.count !== 1 ? -1 : name === "width" ? WIDTH : name === "height" ? HEIGHT : -1;
    if (depth === 3 && parent === "object") return name === "name" ? NAME : name === "nobndbox" ? NOBNDBOX : name === "scene" ? SCENE : -1;
    if (depth === 4 && parent === "bndbox" && this.open[1] === "object" && this.boxes === 1) {
      const k = (COORDINATES as readonly string[]).indexOf(name);
      return k < 0 ? -1 : XMIN + k;
    }
    return -1;
  }

  private opened(name: string): void {
    const doc = this.document;
    this.open.push(name);
    this.openLines.push(this.parser.line);
    const depth = this.open.length;
    if (this.leafDepth > 0) {
      // An element inside a text the reference reads (ElementTree's .text would stop there).
      this.problem(this.where(this.leaf), `expected text, got an element <${name}>`);
      return;
    }
    if (depth === 1) doc.root = name;
    else if (depth === 2 && doc.root === "annotation") {
      if (name === "size" && ++doc.size.count > 1) this.problem("annotation.size", "expected one <size>, got several");
      if (name === "object") {
        doc.objects.push({ names: [], box: undefined, nobndbox: undefined, scene: undefined });
        this.boxes = 0;
      }
    } else if (depth === 3 && name === "bndbox" && this.open[1] === "object" && doc.root === "annotation" && ++this.boxes === 1) {
      doc.objects.at(-1)!.box = [undefined, undefined, undefined, undefined];
    } else {
      const leaf = this.leafOf(name, depth);
      if (leaf < 0) return;
      if (this.value(leaf) !== undefined) this.problem(this.where(leaf), `expected one <${name}>, got several`);
      this.leaf = leaf;
      this.leafDepth = depth;
      this.text = "";
    }
  }

  private closed(): void {
    if (this.leafDepth === this.open.length) {
      this.store(this.leaf, this.text.trim());
      this.leafDepth = 0;
    }
    this.lastClosedName = this.open.pop()!;
    this.lastClosedLine = this.openLines.pop()!;
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
    if (detail === "unexpected close tag") detail += ` (<${this.lastClosedName}>, opened on line ${this.lastClosedLine}, is not closed)`;
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
