/**
 * Writes MDETR's `final_mixed_train.json` layout (scripts/utils/dump.py, convert2dataset_combined)
 * as a stream: all images, then all annotations, with fresh ids. The annotations are spooled to a
 * temporary file while the images are written, so memory does not grow with the output, which
 * can exceed what one string can hold.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { once } from "node:events";
import { basename, dirname, join } from "node:path";
import { finished } from "node:stream/promises";
import { writeFileAtomic } from "../../core/atomic-write.js";
import type { GroundingCorpus, ImageGroup, Span } from "./corpus.js";

/** One output datapoint: a caption over an image and, member by member, its annotations' spans. */
export interface MixedDatapoint {
  image: ImageGroup;
  caption: string;
  tokensNegative: readonly Span[];
  /** Annotation indices into the corpus, per member caption. */
  annotations: readonly Uint32Array[];
  /** tokens_positive per member, per annotation, matching `annotations`. */
  tokensPositive: readonly (readonly (readonly Span[])[])[];
}

async function* mixedJsonChunks(corpus: GroundingCorpus, datapoints: Iterable<MixedDatapoint>, spool: string): AsyncGenerator<string | Uint8Array> {
  const annotationsOut = createWriteStream(spool, { flags: "wx" });
  try {
    const bbox = corpus.bbox.view();
    const area = corpus.area.view();
    const iscrowd = corpus.iscrowd.view();
    const categoryId = corpus.categoryId.view();
    let imageId = 0;
    let annotationId = 0;
    yield '{"info":[],"licenses":[],"images":[';
    let buffered = "";
    for (const datapoint of datapoints) {
      const { image } = datapoint;
      // Field order as dump.py writes it.
      const record = {
        file_name: image.fileName,
        height: image.height,
        width: image.width,
        id: imageId,
        original_id: image.originalId,
        caption: datapoint.caption,
        tokens_negative: datapoint.tokensNegative,
        data_source: image.dataSource,
        dataset_name: "mixed",
      };
      yield (imageId === 0 ? "" : ",") + JSON.stringify(record);
      datapoint.annotations.forEach((members, m) => {
        members.forEach((a, i) => {
          const annotation = {
            area: area[a],
            iscrowd: iscrowd[a],
            image_id: imageId,
            category_id: categoryId[a],
            id: annotationId,
            bbox: [bbox[4 * a], bbox[4 * a + 1], bbox[4 * a + 2], bbox[4 * a + 3]],
            tokens_positive: datapoint.tokensPositive[m]![i],
          };
          buffered += (annotationId === 0 ? "" : ",") + JSON.stringify(annotation);
          annotationId++;
        });
      });
      if (buffered.length > 1 << 20) {
        if (!annotationsOut.write(buffered)) await once(annotationsOut, "drain");
        buffered = "";
      }
      imageId++;
    }
    annotationsOut.end(buffered);
    await finished(annotationsOut);
    yield '],"annotations":[';
    for await (const chunk of createReadStream(spool) as AsyncIterable<Buffer>) yield chunk;
    yield '],"categories":[]}';
  } finally {
    annotationsOut.destroy();
    await rm(spool, { force: true });
  }
}

export async function writeMixedDataset(target: string, corpus: GroundingCorpus, datapoints: Iterable<MixedDatapoint>): Promise<void> {
  const spool = join(dirname(target), `.${basename(target)}.${process.pid}.annotations.tmp`);
  await writeFileAtomic(target, mixedJsonChunks(corpus, datapoints, spool));
}
