/**
 * Bad input that used to pass without a word: each is refused with exit 2 and one line naming the
 * file and the place (a line of a sentence file, a JSON path).
 */
import assert from "node:assert/strict";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseSentences } from "../src/formats/flickr30k/sentences.js";
import { integerKeyProblem, integerProblem } from "../src/json/validate.js";
import { assertInputError, goldenCases, runCli, tempDir, writeJson } from "./helpers.js";

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/**
 * A copy of the test_separate golden dataset folder with one file of the split's first image
 * rewritten, evaluated with the golden predictions; `name` is the rewritten file's path from the
 * dataset folder (`Sentences/510683155.txt`), as a pattern.
 */
async function flickrWith(folder: "Sentences" | "Annotations", edit: (content: Buffer) => string | Uint8Array, predictions?: (golden: unknown[]) => unknown) {
  const golden = goldenCases("flickr30k").find((c) => c.name === "test_separate")!;
  const dir = tempDir();
  const root = join(dir, "flickr");
  cpSync(join(golden.dir, "flickr"), root, { recursive: true });
  const imageId = readFileSync(join(root, "test.txt"), "utf8").split("\n")[0]!.trim();
  const relative = `${folder}/${imageId}.${folder === "Sentences" ? "txt" : "xml"}`;
  const file = join(root, relative);
  writeFileSync(file, edit(readFileSync(file)));
  let predictionFile = join(golden.dir, "pred.json");
  if (predictions) predictionFile = writeJson(dir, "pred.json", predictions(JSON.parse(readFileSync(predictionFile, "utf8")) as unknown[]));
  const run = await runCli(["eval", "flickr30k", "--flickr-dir", root, "--split", "test", "--predictions", predictionFile, "--json", "-"]);
  return { run, name: escape(relative) };
}

/** Replaces line `n` (1-based) of a text file. */
const withLine = (n: number, line: string) => (content: Buffer) => {
  const lines = content.toString("utf8").split("\n");
  lines[n - 1] = line;
  return lines.join("\n");
};

describe("Flickr30k sentence markup", () => {
  const refused: [string, string, RegExp][] = [
    ["a line that ends inside a phrase", "[/EN#7414/scene A crowd .", /line 3: the phrase "\[\/EN#7414\/scene" is not closed: the line ends before its "\]"/],
    ["a phrase opened inside a phrase", "[/EN#7414/scene A [/EN#7413/clothing crowd] here] .", /line 3: "\[\/EN#7413\/clothing" opens a phrase inside the open phrase "\[\/EN#7414\/scene" \(phrases do not nest\)/],
    ["a ] with no phrase open", "A crowd] .", /line 3: "crowd\]" closes a phrase, but none is open/],
    ["a bracket without a head", "[the dog] runs", /line 3: expected a phrase to open with \[\/EN#<id>\/<type>\[\/<type>\.\.\.\] and then its words, got "\[the"/],
    ["an empty entity id", "[/EN#/people x] runs", /line 3: expected a phrase to open with .*, got "\[\/EN#\/people"/],
    ["no type", "[/EN#12 x] runs", /line 3: expected a phrase to open with .*, got "\[\/EN#12"/],
  ];
  for (const [what, line, pattern] of refused) {
    it(`refuses ${what}, naming the file and the line`, async () => {
      const { run, name } = await flickrWith("Sentences", withLine(3, line));
      assertInputError(run, new RegExp(`${name}: ${pattern.source}`));
    });
  }

  it("keeps a sentence file's byte order mark, as Python's open() does: the first phrase is then misread markup, refused", async () => {
    const { run, name } = await flickrWith("Sentences", (content) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), content]));
    assertInputError(run, new RegExp(`${name}: line 1: "crowd\\]" closes a phrase, but none is open`));
  });

  it("drops an annotation file's byte order mark, as ElementTree does", async () => {
    const { run } = await flickrWith("Annotations", (content) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), content]));
    assert.equal(run.code, 0, run.stderr);
  });

  it("parseSentences names the file and the line (empty lines count)", () => {
    assert.throws(() => parseSentences("s.txt", "[/EN#1/people A man]\n\n[/EN#2/other a dog\n"), /^InputError: s\.txt: line 3: the phrase "\[\/EN#2\/other" is not closed/);
    assert.throws(() => parseSentences("s.txt", "[/EN#1/people A [/EN#2/other man]]"), /s\.txt: line 1: "\[\/EN#2\/other" opens a phrase inside/);
    assert.throws(() => parseSentences("s.txt", "] a man"), /s\.txt: line 1: "\]" closes a phrase, but none is open/);
    assert.throws(() => parseSentences("s.txt", "a]b man"), /s\.txt: line 1: "a\]b" closes a phrase, but none is open/);
    for (const head of ["[", "[the", "[/EN#", "[/EN#/people", "[/EN#12", "[/EN#12/", "[/EN#12//people", "[/EN#12/people/", "[/EN#1a/people", "[EN#12/people", "[/EN#12/people]"]) {
      assert.throws(() => parseSentences("s.txt", `${head} x] y`), new RegExp(`s\\.txt: line 1: expected a phrase to open with .*, got ${escape(JSON.stringify(head))}$`), head);
    }
  });

  it("still reads valid markup as get_sentence_data does: a word ending in ] ends the phrase", () => {
    const [sentence] = parseSentences("s.txt", "[/EN#1/people/other a] man [/EN#2/other x]] y");
    assert.equal(sentence!.sentence, "a man x] y");
    assert.deepEqual(sentence!.phrases, [
      { firstWordIndex: 0, phrase: "a", entityId: "1", types: ["people", "other"] },
      { firstWordIndex: 2, phrase: "x]", entityId: "2", types: ["other"] },
    ]);
  });
});

describe("Flickr30k files that are not text or not XML", () => {
  it("refuses an annotation file that is not valid UTF-8, naming it", async () => {
    const { run, name } = await flickrWith("Annotations", (content) => Buffer.concat([content.subarray(0, 20), Buffer.from([0xc3, 0x28]), content.subarray(20)]));
    assertInputError(run, new RegExp(`${name}: not valid UTF-8 \\(annotations\\)$`, "m"));
  });

  it("refuses a sentence file that is not valid UTF-8, naming it", async () => {
    const { run, name } = await flickrWith("Sentences", (content) => Buffer.concat([Buffer.from([0xff]), content]));
    assertInputError(run, new RegExp(`${name}: not valid UTF-8 \\(sentences\\)$`, "m"));
  });

  it("refuses an annotation file with an unclosed tag, naming it and the tag's line", async () => {
    const { run, name } = await flickrWith("Annotations", (content) => content.toString("utf8").replace("</size>", ""));
    assertInputError(run, new RegExp(`${name}: line 64, column 14: not valid XML: unexpected close tag \\(<size>, opened on line 3, is not closed\\)\\n`));
  });

  it("refuses an annotation file cut short", async () => {
    const { run, name } = await flickrWith("Annotations", (content) => content.toString("utf8").replace("</annotation>", ""));
    assertInputError(run, new RegExp(`${name}: line 65, column 1: not valid XML: unclosed tag: annotation\\n`));
  });

  it("refuses a prediction whose image id is a fractional number", async () => {
    const { run } = await flickrWith("Sentences", (content) => content, (p) => p.map((x, i) => (i === 2 ? { ...(x as object), image_id: 768.5 } : x)));
    assertInputError(run, /pred\.json: \[2\]\.image_id: expected an image id \(string or integer\), got 768\.5/);
  });
});

const lvisGroundTruth = () => ({
  images: [
    { id: 1, neg_category_ids: [2], not_exhaustive_category_ids: [] } as Record<string, unknown>,
    { id: 2, neg_category_ids: [], not_exhaustive_category_ids: [1] } as Record<string, unknown>,
  ],
  categories: [
    { id: 1, name: "cat", frequency: "f", image_count: 2 } as Record<string, unknown>,
    { id: 2, name: "dog", frequency: "r", image_count: 1 } as Record<string, unknown>,
  ],
  annotations: [
    { id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 100, 100], area: 10000 } as Record<string, unknown>,
    { id: 2, image_id: 2, category_id: 1, bbox: [10, 10, 50, 50], area: 2500 } as Record<string, unknown>,
  ],
});
const lvisDetections = () => [
  { image_id: 1, category_id: 1, bbox: [0, 0, 100, 100], score: 0.9 } as Record<string, unknown>,
  { image_id: 2, category_id: 2, bbox: [10, 10, 50, 50], score: 0.8 } as Record<string, unknown>,
];

async function lvis(gt: unknown, dets: unknown = lvisDetections()) {
  const dir = tempDir();
  return runCli(["eval", "lvis", "--annotations", writeJson(dir, "gt.json", gt), "--predictions", writeJson(dir, "dets.json", dets)]);
}

describe("LVIS images without their category lists", () => {
  it("the base files are fine", async () => {
    const run = await lvis(lvisGroundTruth());
    assert.equal(run.code, 0, run.stderr);
  });

  for (const [key, what] of [["neg_category_ids", "the negative categories"], ["not_exhaustive_category_ids", "the not exhaustively annotated categories"]] as const) {
    it(`refuses an image without ${key}, as lvis-api does (KeyError)`, async () => {
      const gt = lvisGroundTruth();
      delete gt.images[1]![key];
      assertInputError(await lvis(gt), new RegExp(`gt\\.json: images\\[1\\]\\.${key}: missing \\(LVIS v1 lists ${what} of every image; use \\[\\] for none\\)`));
    });

    it(`refuses ${key}: null`, async () => {
      const gt = lvisGroundTruth();
      gt.images[0]![key] = null;
      assertInputError(await lvis(gt), new RegExp(`gt\\.json: images\\[0\\]\\.${key}: expected a list of category ids, got null`));
    });
  }

  it("every golden LVIS ground truth has both lists on every image", () => {
    for (const golden of goldenCases("lvis")) {
      const gt = JSON.parse(readFileSync(join(golden.dir, "gt.json"), "utf8")) as { images: Record<string, unknown>[] };
      const missing = gt.images.filter((image) => !Array.isArray(image["neg_category_ids"]) || !Array.isArray(image["not_exhaustive_category_ids"]));
      assert.equal(missing.length, 0, golden.name);
    }
  });
});

describe("ids that are not integers", () => {
  it("integerProblem and integerKeyProblem", () => {
    for (const ok of [0, 768, -3, 1e15]) assert.equal(integerProblem(ok), undefined);
    assert.equal(integerProblem(768.5), "expected an integer id, got 768.5");
    assert.equal(integerProblem("768"), 'expected an integer id, got the string "768"');
    assert.equal(integerProblem(null), "expected an integer id, got null");
    assert.equal(integerProblem(Infinity), "expected an integer id, got a number out of range");
    for (const ok of ["0", "768", "-3"]) assert.equal(integerKeyProblem(ok), undefined);
    for (const bad of ["768.5", "1.0", " 768", "768 ", "1e3", "", "+1", "abc"]) assert.match(integerKeyProblem(bad) ?? "", /^expected an integer id as the key, got the string /, bad);
  });

  describe("LVIS", () => {
    const refused: [string, (gt: ReturnType<typeof lvisGroundTruth>, dets: Record<string, unknown>[]) => void, RegExp][] = [
      ["an image id", (gt) => void (gt.images[1]!["id"] = 2.5), /gt\.json: images\[1\]\.id: expected an integer id, got 2\.5/],
      ["a category id", (gt) => void (gt.categories[0]!["id"] = 1.5), /gt\.json: categories\[0\]\.id: expected an integer id, got 1\.5/],
      ["an annotation's image_id", (gt) => void (gt.annotations[1]!["image_id"] = 2.5), /gt\.json: annotations\[1\]\.image_id: expected an integer id, got 2\.5/],
      ["an annotation's category_id", (gt) => void (gt.annotations[1]!["category_id"] = 1.5), /gt\.json: annotations\[1\]\.category_id: expected an integer id, got 1\.5/],
      ["an annotation's id", (gt) => void (gt.annotations[0]!["id"] = 0.5), /gt\.json: annotations\[0\]\.id: expected an integer id, got 0\.5/],
      ["a negative category id", (gt) => void (gt.images[0]!["neg_category_ids"] = [2.5]), /gt\.json: images\[0\]\.neg_category_ids\[0\]: expected an integer id, got 2\.5/],
      ["a detection's image_id", (_, dets) => void (dets[1]!["image_id"] = 768.5), /dets\.json: \[1\]\.image_id: expected an integer id, got 768\.5/],
      ["a detection's category_id", (_, dets) => void (dets[0]!["category_id"] = 1.5), /dets\.json: \[0\]\.category_id: expected an integer id, got 1\.5/],
      ["a detection's image_id as a string", (_, dets) => void (dets[0]!["image_id"] = "1"), /dets\.json: \[0\]\.image_id: expected an integer id, got the string "1"/],
    ];
    for (const [what, edit, pattern] of refused) {
      it(`refuses ${what} that is not an integer`, async () => {
        const gt = lvisGroundTruth();
        const dets = lvisDetections();
        edit(gt, dets);
        assertInputError(await lvis(gt, dets), pattern);
      });
    }
  });

  describe("referring expressions", () => {
    const annotations = () => ({
      images: [
        { id: 1, file_name: "a.jpg", height: 100, width: 100, caption: "the left dog", dataset_name: "refcoco" } as Record<string, unknown>,
        { id: 2, file_name: "a.jpg", height: 100, width: 100, caption: "a cat", dataset_name: "refcoco" } as Record<string, unknown>,
      ],
      annotations: [
        { id: 11, image_id: 1, bbox: [10, 10, 40, 40], category_id: 1, area: 1600, iscrowd: 0 } as Record<string, unknown>,
        { id: 12, image_id: 2, bbox: [60, 60, 20, 20], category_id: 1, area: 400, iscrowd: 0 } as Record<string, unknown>,
      ],
    });
    const entry = { boxes: [[10, 10, 50, 50]], scores: [0.9] };
    async function refcoco(predictions: unknown, ann: unknown = annotations()) {
      const dir = tempDir();
      return runCli(["eval", "refcoco", "--annotations", writeJson(dir, "ann.json", ann), "--predictions", writeJson(dir, "pred.json", predictions)]);
    }

    it("refuses a COCO result whose image_id is not an integer", async () => {
      assertInputError(await refcoco([{ image_id: 1, bbox: [10, 10, 40, 40], score: 0.9 }, { image_id: 768.5, bbox: [1, 2, 3, 4], score: 0.5 }]), /pred\.json: \[1\]\.image_id: expected an integer id, got 768\.5/);
    });

    for (const key of ["768.5", "1.0", " 1"]) {
      it(`refuses the MDETR dict key ${JSON.stringify(key)}`, async () => {
        assertInputError(await refcoco({ "1": entry, [key]: entry }), new RegExp(`pred\\.json: \\[${escape(JSON.stringify(key))}\\]: expected an integer id as the key, got the string ${escape(JSON.stringify(key))}`));
      });
    }

    it("keeps ignoring, with a warning, an integer key that names no expression", async () => {
      const run = await refcoco({ "1": entry, "2": entry, "99": entry });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /pred\.json: 1 predictions name image ids not in .*ann\.json \(99\); ignored/);
    });

    it("refuses an expression id that is not an integer", async () => {
      const ann = annotations();
      ann.images[1]!["id"] = 2.5;
      assertInputError(await refcoco({ "1": entry }, ann), /ann\.json: images\[1\]\.id: expected an integer id, got 2\.5/);
    });

    it("refuses an annotation's image_id that is not an integer", async () => {
      const ann = annotations();
      ann.annotations[0]!["image_id"] = 1.5;
      assertInputError(await refcoco({ "1": entry }, ann), /ann\.json: annotations\[0\]\.image_id: expected an integer id, got 1\.5/);
    });
  });

  describe("grounding annotations (merge-annotations)", () => {
    const dataset = () => ({
      images: [{ id: 1, file_name: "COCO_train2014_000000000042.jpg", height: 480, width: 640, caption: "the red car", tokens_negative: [[0, 11]], original_id: 42, data_source: "coco" } as Record<string, unknown>],
      annotations: [{ id: 10, image_id: 1, bbox: [0, 0, 10, 10], area: 100, iscrowd: 0, category_id: 1, tokens_positive: [[4, 11]] } as Record<string, unknown>],
    });
    async function merge(input: unknown) {
      const dir = tempDir();
      return runCli(["merge-annotations", writeJson(dir, "in1.json", input), "-o", join(dir, "mixed.json")]);
    }

    it("the base file is fine", async () => {
      const run = await merge(dataset());
      assert.equal(run.code, 0, run.stderr);
    });

    it("refuses an image id that is not an integer", async () => {
      const input = dataset();
      input.images[0]!["id"] = 1.5;
      assertInputError(await merge(input), /in1\.json: images\[0\]\.id: expected an integer id, got 1\.5/);
    });

    it("refuses an annotation's image_id that is not an integer", async () => {
      const input = dataset();
      input.annotations[0]!["image_id"] = "1";
      assertInputError(await merge(input), /in1\.json: annotations\[0\]\.image_id: expected an integer id, got the string "1"/);
    });
  });
});
