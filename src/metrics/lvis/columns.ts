/** The plain data LVIS evaluation works on: ground truth and detections as typed columns. */

export interface LvisGroundTruthColumns {
  imageCount: number;
  categoryCount: number;
  /** 0 rare, 1 common, 2 frequent, per category index. */
  frequency: Uint8Array;
  /** image index * categoryCount + category index. */
  negative: ReadonlySet<number>;
  notExhaustive: ReadonlySet<number>;
  annotations: { image: Int32Array; category: Int32Array; bbox: Float64Array; area: Float64Array; id: Float64Array; ignore: Uint8Array };
}

/** Detections in file order: image and category indices, [x, y, w, h], score. */
export interface DetectionColumns {
  image: Int32Array;
  category: Int32Array;
  bbox: Float64Array;
  score: Float64Array;
}
