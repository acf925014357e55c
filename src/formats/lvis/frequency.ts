/** LVIS category frequencies by index (0 rare, 1 common, 2 frequent), as `categories[].frequency` spells them. */
export const FREQUENCIES = ["r", "c", "f"] as const;
