import assert from "node:assert/strict";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseFlickrAnnotation, mergeEntityBoxes } from "../src/formats/flickr30k/annotations.js";
import { parseSentences } from "../src/formats/flickr30k/sentences.js";
import { bestIou, flickrRecall } from "../src/metrics/flickr30k.js";
import { goldenSuite, goldenCases, numericDifferences, readJsonFile, runCli, seeded, tempDir, writeJson, metricsOf } from "./helpers.js";

describe("eval flickr30k matches MDETR's evaluator on the golden cases", () => {
  goldenSuite("flickr30k");

  it("the protocols differ on the same files (--merged is not ignored)", async () => {
    const golden = goldenCases("flickr30k").find((c) => c.name === "val_merged")!;
    const run = await runCli(golden.argv.filter((a) => a !== "--merged").map((a) => (a === "{out}" ? "-" : a)), { cwd: golden.dir });
    assert.equal(run.code, 0, run.stderr);
    assert.notDeepEqual(numericDifferences(golden.expected, metricsOf(JSON.parse(run.stdout))), []);
  });
});

describe("sentence files (get_sentence_data)", () => {
  it("parses phrases at the start and end, several types, and punctuation inside phrases", () => {
    const [sentence] = parseSentences("s.txt", "[/EN#1/people A man] in [/EN#2/clothing/other a red, torn shirt] eats [/EN#3/other food.]\n");
    assert.equal(sentence!.sentence, "A man in a red, torn shirt eats food.");
    assert.deepEqual(sentence!.phrases, [
      { firstWordIndex: 0, phrase: "A man", entityId: "1", types: ["people"] },
      { firstWordIndex: 3, phrase: "a red, torn shirt", entityId: "2", types: ["clothing", "other"] },
      { firstWordIndex: 8, phrase: "food.", entityId: "3", types: ["other"] },
    ]);
  });

  it("reads CRLF files as Python's universal newlines do (no extra sentences)", () => {
    const unix = parseSentences("s.txt", "[/EN#1/people A man] runs\n\n[/EN#2/other It] rains\n");
    assert.deepEqual(parseSentences("s.txt", "[/EN#1/people A man] runs\r\n\r\n[/EN#2/other It] rains\r\n"), unix);
    assert.deepEqual(parseSentences("s.txt", "[/EN#1/people A man] runs\r\r[/EN#2/other It] rains\r"), unix);
  });

  it("splits words as Python's str.split(): U+001C..U+001F, U+0085 and U+3000 separate words, U+FEFF does not", () => {
    const [sentence] = parseSentences("s.txt", "[/EN#1/people A\x1cman]\x85runs\ufefffast\u3000\x1f today\n");
    assert.equal(sentence!.sentence, "A man runs\ufefffast today");
    assert.deepEqual(sentence!.phrases, [{ firstWordIndex: 0, phrase: "A man", entityId: "1", types: ["people"] }]);
  });

  it("reads a phrase head as the pattern [/EN#<digits>/<type>[/<type>...] and token.split(\"/\") do, on random heads", () => {
    const pattern = /^\[\/EN#\d+(?:\/[^/\]]+)+$/;
    const random = seeded(3);
    const pieces = ["[/EN#", "[/EN", "[", "/", "//", "1", "23", "#", "E", "people", "a", "]", "[/EN#4/"];
    for (let k = 0; k < 5000; k++) {
      let head = k % 3 === 0 ? "[/EN#" : "";
      for (let n = 1 + Math.floor(random() * 5); n > 0; n--) head += pieces[Math.floor(random() * pieces.length)]!;
      if (head.charCodeAt(0) !== 0x5b || head.endsWith("]")) continue;
      const line = `${head} man] runs`;
      if (pattern.test(head)) {
        const parts = head.split("/");
        assert.deepEqual(parseSentences("s.txt", line)[0]!.phrases, [{ firstWordIndex: 0, phrase: "man", entityId: parts[1]!.slice(3), types: parts.slice(2) }], head);
      } else assert.throws(() => parseSentences("s.txt", line), /expected a phrase to open with/, head);
    }
  });

  it("skips empty lines, splits on runs of whitespace, and keeps one-word phrases", () => {
    const sentences = parseSentences("s.txt", "\n[/EN#9/scene street]   at  night\n\n[/EN#4/notvisual It] rains\n");
    assert.deepEqual(sentences.map((s) => s.sentence), ["street at night", "It rains"]);
    assert.deepEqual(sentences[1]!.phrases, [{ firstWordIndex: 0, phrase: "It", entityId: "4", types: ["notvisual"] }]);
  });
});

describe("annotation files (get_annotations)", () => {
  const xml = `<annotation><size><width>300</width><height>200</height><depth>3</depth></size>
    <object><name>10</name><name>11</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>30</xmax><ymax>40</ymax></bndbox></object>
    <object><name>10</name><bndbox><xmin>50</xmin><ymin>60</ymin><xmax>70</xmax><ymax>80</ymax></bndbox></object>
    <object><name>12</name><nobndbox>1</nobndbox><scene>0</scene></object>
    <object><name>13</name><nobndbox>0</nobndbox><scene>1</scene></object></annotation>`;

  it("gives an object's box to each of its entities, and lists entities without boxes", () => {
    const annotation = parseFlickrAnnotation("a.xml", xml);
    assert.deepEqual([...annotation.boxes], [["10", [[1, 2, 30, 40], [50, 60, 70, 80]]], ["11", [[1, 2, 30, 40]]]]);
    assert.deepEqual([annotation.nobox, annotation.scene, annotation.width, annotation.height], [["12"], ["13"], 300, 200]);
    assert.deepEqual(mergeEntityBoxes(annotation.boxes.get("10")!), [[1, 2, 70, 80]]);
  });

  it("refuses coordinates that are not integers, naming the place", () => {
    assert.throws(() => parseFlickrAnnotation("a.xml", xml.replace("<xmin>1</xmin>", "<xmin>1.5</xmin>")), /a\.xml: annotation\.object\[0\]\.bndbox\.xmin: expected an integer, got "1\.5"/);
  });

  it("reads what ElementTree reads: declaration, comments, CDATA, character references, attributes, other elements, the first bndbox", () => {
    const plain = parseFlickrAnnotation("a.xml", xml);
    const variants = [
      `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE annotation>\n${xml}`,
      xml.replace(/\n/g, "\r\n"),
      xml.replace("<name>11</name>", "<name> <!-- id --><![CDATA[1]]>&#49;\n</name>").replace("<object>", '<object kind="a &amp; b"><pose>Left</pose>'),
      xml.replace("</bndbox></object>\n    <object><name>12</name>", "</bndbox><bndbox><xmin>0</xmin></bndbox></object>\n    <object><name>12</name>"),
      xml.replace("<depth>3</depth>", "<depth/><filename>a&lt;b</filename>"),
    ];
    for (const variant of variants) assert.deepEqual(parseFlickrAnnotation("a.xml", variant), plain, variant);
  });

  it("refuses what is not well-formed XML, or not one text where the reference reads one, naming the place", () => {
    const refused: [string, RegExp][] = [
      [xml.replace("<depth>3</depth>", "<f>a&nbsp;b</f>"), /^a\.xml: line 1, column \d+: not valid XML: undefined entity$/],
      [xml.replace("<object>", "<object>a & b"), /^a\.xml: line 2, column 15: not valid XML: a '&' that starts no entity reference/],
      [xml.replace("</annotation>", "</annotation><annotation/>"), /^a\.xml: line 5, column \d+: not valid XML: documents may contain only one root$/],
      [xml.replace("<name>11</name>", "<name>11<b/></name>"), /^a\.xml: annotation\.object\[0\]\.name: expected text, got an element <b>$/],
      [xml.replace("<xmin>1</xmin>", "<xmin>1</xmin><xmin>2</xmin>"), /^a\.xml: annotation\.object\[0\]\.bndbox\.xmin: expected one <xmin>, got several$/],
      [xml.replace("<annotation>", "<annotation><size/>"), /^a\.xml: annotation\.size: expected one <size>, got several$/],
      [xml.replace("<annotation>", "<annot>").replace("</annotation>", "</annot>"), /^a\.xml: expected an <annotation> document$/],
      ["", /^a\.xml: line 1, column 1: not valid XML: document must contain a root element$/],
    ];
    for (const [text, pattern] of refused) assert.throws(() => parseFlickrAnnotation("a.xml", text), (error: Error) => pattern.test(error.message), text);
  });
});

describe("recall", () => {
  const boxes = (...list: number[][]) => Float64Array.from(list.flat());

  it("is a hit at k when one of the first k boxes matches any ground-truth box; the upper bound uses all", () => {
    const result = flickrRecall(
      [{ types: ["people", "other"], predicted: boxes([100, 100, 110, 110], [0, 0, 10, 10]), groundTruth: [[50, 50, 60, 60], [0, 0, 10, 10]] }],
      [1, 5],
      0.5,
    );
    assert.deepEqual(result.recallAt.map(({ k, byType }) => [k, Object.fromEntries(byType)]), [
      [1, { all: 0, other: 0, people: 0 }],
      [5, { all: 1, other: 1, people: 1 }],
    ]);
    assert.deepEqual(Object.fromEntries(result.upperBound), { all: 1, other: 1, people: 1 });
  });

  it("never counts a NaN IoU (two zero-area boxes) as a hit, as numpy's max() propagates it", () => {
    assert.ok(Number.isNaN(bestIou(boxes([5, 5, 5, 9], [0, 0, 10, 10]), [[5, 5, 5, 9]], 2)));
  });
});

describe("mdetr eval flickr30k refuses bad predictions with exit 2", () => {
  /** A copy of the test_separate golden folder, with its predictions replaced. */
  async function withPredictions(edit: (predictions: { image_id: string; sentence_id: number; boxes: number[][][] }[]) => unknown) {
    const golden = goldenCases("flickr30k").find((c) => c.name === "test_separate")!;
    const dir = tempDir();
    cpSync(join(golden.dir, "flickr"), join(dir, "flickr"), { recursive: true });
    const predictions = readJsonFile(join(golden.dir, "pred.json")) as { image_id: string; sentence_id: number; boxes: number[][][] }[];
    writeJson(dir, "pred.json", edit(predictions) ?? predictions);
    return await runCli(["eval", "flickr30k", "--flickr-dir", join(dir, "flickr"), "--split", "test", "--predictions", join(dir, "pred.json"), "--json", "-"]);
  }

  it("a sentence with the wrong number of box lists", async () => {
    const run = await withPredictions((p) => void p[0]!.boxes.pop());
    assert.equal(run.code, 2);
    assert.match(run.stderr, /pred\.json: \[0\]\.boxes: image 5417965991, sentence 1: expected 2 box lists \(one per phrase with a ground-truth box\), got 1/);
  });

  it("an empty box list", async () => {
    const run = await withPredictions((p) => void (p[0]!.boxes[1] = []));
    assert.equal(run.code, 2);
    assert.match(run.stderr, /\[0\]\.boxes\[1\]: image 5417965991, sentence 1: no boxes for the phrase/);
  });

  it("missing predictions, with how many and which", async () => {
    const run = await withPredictions((p) => p.slice(2));
    assert.equal(run.code, 2);
    assert.match(run.stderr, /no predictions for 2 of 35 evaluated sentences \(image_sentence /);
  });

  it("repeated predictions: the first counts, with one warning line", async () => {
    const run = await withPredictions((p) => [...p, { ...p[0]!, boxes: p[0]!.boxes.map(() => [[0, 0, 1, 1]]) }]);
    assert.equal(run.code, 0, run.stderr);
    // The golden predictions also hold 4 empty entries for sentences outside the evaluated set, as
    // MDETR writes them: those are not predictions ignored.
    assert.match(run.stderr, /ignored 1 repeated predictions \(the first one counts\) and 0 predictions for sentences outside/);
    const golden = goldenCases("flickr30k").find((c) => c.name === "test_separate")!;
    assert.deepEqual(numericDifferences(golden.expected, metricsOf(JSON.parse(run.stdout))), []);
  });

  it("a missing dataset folder is a usage error", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "flickr"));
    writeFileSync(join(dir, "pred.json"), "[]");
    const run = await runCli(["eval", "flickr30k", "--flickr-dir", join(dir, "flickr"), "--predictions", join(dir, "pred.json")]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /test\.txt: cannot read the split's image list: ENOENT/);
  });
});
