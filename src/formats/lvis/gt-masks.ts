/**
 * The masks of LVIS ground truth for `segm` evaluation, as `LVIS.ann_to_rle` makes them: polygons
 * rasterised at the annotation's image size and united, RLEs taken as they are (their size must be
 * the image's). Real LVIS files list annotations before images, so the segmentations are checked
 * while reading and rasterised once every image size is known.
 */
import { InputError } from "../../core/errors.js";
import { PackedRlesBuilder, type PackedRles } from "../../compat/coco-mask/packed.js";
import { checkSegmentation, packSegmentation, type Segmentation } from "../segmentation.js";

export class GroundTruthMasks {
  private readonly segmentations: Segmentation[] = [];
  private readonly places: string[] = [];

  constructor(private readonly file: string) {}

  add(at: string, annotation: Record<string, unknown>): void {
    const value = annotation["segmentation"];
    if (value === undefined) throw new InputError(this.file, `${at}.segmentation`, "missing (mask AP needs every annotation's segmentation)");
    this.segmentations.push(checkSegmentation(this.file, `${at}.segmentation`, value));
    this.places.push(at);
  }

  /** Every annotation's mask; `imageOf[a]` is its image index, whose size `height` / `width` hold. */
  build(imageOf: Int32Array, height: Int32Array, width: Int32Array): PackedRles {
    const packed = new PackedRlesBuilder();
    this.segmentations.forEach((segmentation, a) => {
      const i = imageOf[a]!;
      const at = `${this.places[a]!}.segmentation`;
      packSegmentation(packed, this.file, at, segmentation, height[i]!, width[i]!);
    });
    return packed.build();
  }
}
