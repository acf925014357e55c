;; The two passes of Pillow's 8-bit resampler (libImaging/Resample.c,
;; `_ImagingResampleHorizontal_8bpc` and `_ImagingResampleVertical_8bpc`) for an RGB picture, the
;; vertical pass writing each byte through a per-channel table of floats (the model's normalised
;; pixel_values). compat/pil.ts computes the coefficients (Resample.c `precompute_coeffs` and
;; `normalize_coeffs_8bpc`), lays out this module's memory and calls these two functions.
;;
;; Why WebAssembly: V8 compiles these loops over typed arrays given as arguments with a bounds
;; check and an overflow check at every access and product; here the integer sums are plain
;; i32 arithmetic, four at once (SIMD) in the vertical pass and in a downscale's horizontal one:
;; 2.4x the speed of the JavaScript loops on 640x480 -> 1066x800, 4.7x on 4032x3024 -> 1066x800.
;;
;; Every sum is Pillow's: `(1 << (PRECISION_BITS - 1)) + sum of byte * weight`, shifted right by
;; PRECISION_BITS = 22 and clipped to 0..255 (`clip8`). Weights are never negative and sum to
;; about 2^22, so no sum leaves int32. All addresses are byte offsets into the memory. Inner
;; blocks are written out where a loop or a call would repeat them (a tap's products, a group's
;; lookups): a call there cost 10-15% of the pass.

(module
  (memory (export "memory") 1)

  ;; Along the rows: `rows` rows of the source (pixel (c, x, y) at src + y * rowStep + x *
  ;; pixelStep + c: its three bytes together) into three planes of bytes at out, each `rows` rows
  ;; of `width`. Output pixel x reads `taps` pixels from column first[x] (i32 at first + 4x) with
  ;; the weights at weights + 4 * x * taps. Two taps (every upscale) take a scalar path without the
  ;; clip: a sum of two is at most 255 * (2^22 + 1) + 2^21 < 256 * 2^22. Wider windows (a
  ;; downscale) sum the three channels as lanes of one vector, then clip as `clip8` does; the
  ;; source's last pixel is read with the byte after it, which the caller leaves room for.
  (func (export "horizontal")
    (param $src i32) (param $rowStep i32) (param $pixelStep i32) (param $rows i32)
    (param $first i32) (param $weights i32) (param $taps i32) (param $width i32) (param $out i32)
    (local $plane i32) (local $green i32) (local $blue i32) (local $y i32) (local $x i32) (local $t i32)
    (local $p i32) (local $q i32) (local $k i32) (local $k0 i32) (local $k1 i32) (local $sums v128)
    (local.set $plane (i32.mul (local.get $rows) (local.get $width)))
    (local.set $green (i32.add (local.get $out) (local.get $plane)))
    (local.set $blue (i32.add (local.get $green) (local.get $plane)))
    (block $rowsDone (loop $eachRow
      (br_if $rowsDone (i32.ge_u (local.get $y) (local.get $rows)))
      (local.set $x (i32.const 0))
      (block $columnsDone (loop $eachColumn
        (br_if $columnsDone (i32.ge_u (local.get $x) (local.get $width)))
        (local.set $p (i32.add
          (i32.add (local.get $src) (i32.mul (local.get $y) (local.get $rowStep)))
          (i32.mul (i32.load (i32.add (local.get $first) (i32.shl (local.get $x) (i32.const 2)))) (local.get $pixelStep))))
        (local.set $k (i32.add (local.get $weights) (i32.shl (i32.mul (local.get $x) (local.get $taps)) (i32.const 2))))
        (if (i32.eq (local.get $taps) (i32.const 2))
          (then
            (local.set $k0 (i32.load (local.get $k)))
            (local.set $k1 (i32.load offset=4 (local.get $k)))
            (local.set $q (i32.add (local.get $p) (local.get $pixelStep)))
            (i32.store8 (local.get $out) (i32.shr_s (i32.add (i32.add (i32.const 0x200000)
              (i32.mul (i32.load8_u (local.get $p)) (local.get $k0))) (i32.mul (i32.load8_u (local.get $q)) (local.get $k1))) (i32.const 22)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (i32.store8 (local.get $green) (i32.shr_s (i32.add (i32.add (i32.const 0x200000)
              (i32.mul (i32.load8_u (local.get $p)) (local.get $k0))) (i32.mul (i32.load8_u (local.get $q)) (local.get $k1))) (i32.const 22)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (i32.store8 (local.get $blue) (i32.shr_s (i32.add (i32.add (i32.const 0x200000)
              (i32.mul (i32.load8_u (local.get $p)) (local.get $k0))) (i32.mul (i32.load8_u (local.get $q)) (local.get $k1))) (i32.const 22))))
          (else
            ;; The three channels of a pixel are lanes 0-2 of one vector (lane 3 is the byte after
            ;; the pixel, unused): its 4 bytes, widened, times the tap's weight.
            (local.set $sums (v128.const i32x4 0x200000 0x200000 0x200000 0x200000))
            (local.set $q (local.get $p))
            (local.set $t (i32.const 0))
            (loop $eachTap
              (local.set $sums (i32x4.add (local.get $sums) (i32x4.mul
                (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (local.get $q))))
                (i32x4.splat (i32.load (i32.add (local.get $k) (i32.shl (local.get $t) (i32.const 2))))))))
              (local.set $q (i32.add (local.get $q) (local.get $pixelStep)))
              (br_if $eachTap (i32.lt_u (local.tee $t (i32.add (local.get $t) (i32.const 1))) (local.get $taps))))
            (local.set $sums (i32x4.min_s
              (i32x4.max_s (i32x4.shr_s (local.get $sums) (i32.const 22)) (v128.const i32x4 0 0 0 0))
              (v128.const i32x4 255 255 255 255)))
            (i32.store8 (local.get $out) (i32x4.extract_lane 0 (local.get $sums)))
            (i32.store8 (local.get $green) (i32x4.extract_lane 1 (local.get $sums)))
            (i32.store8 (local.get $blue) (i32x4.extract_lane 2 (local.get $sums)))))
        (local.set $out (i32.add (local.get $out) (i32.const 1)))
        (local.set $green (i32.add (local.get $green) (i32.const 1)))
        (local.set $blue (i32.add (local.get $blue) (i32.const 1)))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br $eachColumn)))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br $eachRow))))

  ;; Across the rows: the three byte planes at planes (each `rowsIn` rows of `width`) into three
  ;; planes of floats at out (each `height` rows of `width`), output row y summing `taps` rows
  ;; from row first[y] with the weights at weights + 4 * y * taps; each byte v of channel c
  ;; becomes the float at tables + 1024 c + 4 v. Sixteen columns at a time: the last group of a
  ;; row reads up to 15 bytes past it and writes up to 15 floats past it, into the next row
  ;; (written over after) or, at the end, into the 64 bytes the caller leaves after the planes.
  (func (export "vertical")
    (param $planes i32) (param $width i32) (param $rowsIn i32) (param $first i32) (param $weights i32) (param $taps i32)
    (param $height i32) (param $tables i32) (param $out i32)
    (local $c i32) (local $y i32) (local $x i32) (local $t i32) (local $plane i32) (local $top i32) (local $k i32) (local $p i32) (local $o i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $v v128) (local $half v128)
    (local $w v128) (local $w0 v128) (local $w1 v128)
    (loop $eachChannel
      (local.set $plane (i32.add (local.get $planes) (i32.mul (local.get $c) (i32.mul (local.get $rowsIn) (local.get $width)))))
      (local.set $y (i32.const 0))
      (block $rowsDone (loop $eachRow
        (br_if $rowsDone (i32.ge_u (local.get $y) (local.get $height)))
        (local.set $top (i32.add (local.get $plane)
          (i32.mul (i32.load (i32.add (local.get $first) (i32.shl (local.get $y) (i32.const 2)))) (local.get $width))))
        (local.set $k (i32.add (local.get $weights) (i32.shl (i32.mul (local.get $y) (local.get $taps)) (i32.const 2))))
        (local.set $w0 (i32x4.splat (i32.load (local.get $k))))
        ;; With one tap this is the next row's weight, or past the weights: never used.
        (local.set $w1 (i32x4.splat (i32.load offset=4 (local.get $k))))
        (local.set $x (i32.const 0))
        (block $columnsDone (loop $eachGroup
          (br_if $columnsDone (i32.ge_u (local.get $x) (local.get $width)))
          (local.set $p (i32.add (local.get $top) (local.get $x)))
          (local.set $a0 (v128.const i32x4 0x200000 0x200000 0x200000 0x200000))
          (local.set $a1 (local.get $a0))
          (local.set $a2 (local.get $a0))
          (local.set $a3 (local.get $a0))
          (local.set $v (v128.load (local.get $p)))
          (local.set $w (local.get $w0))
          (local.set $half (i16x8.extend_low_i8x16_u (local.get $v)))
          (local.set $a0 (i32x4.add (local.get $a0) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $half)) (local.get $w))))
          (local.set $a1 (i32x4.add (local.get $a1) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $half)) (local.get $w))))
          (local.set $half (i16x8.extend_high_i8x16_u (local.get $v)))
          (local.set $a2 (i32x4.add (local.get $a2) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $half)) (local.get $w))))
          (local.set $a3 (i32x4.add (local.get $a3) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $half)) (local.get $w))))
          ;; The second tap apart from the rest: it is the last of every upscale.
          (if (i32.ge_u (local.get $taps) (i32.const 2)) (then
            (local.set $p (i32.add (local.get $p) (local.get $width)))
            (local.set $v (v128.load (local.get $p)))
            (local.set $w (local.get $w1))
            (local.set $half (i16x8.extend_low_i8x16_u (local.get $v)))
            (local.set $a0 (i32x4.add (local.get $a0) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $half)) (local.get $w))))
            (local.set $a1 (i32x4.add (local.get $a1) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $half)) (local.get $w))))
            (local.set $half (i16x8.extend_high_i8x16_u (local.get $v)))
            (local.set $a2 (i32x4.add (local.get $a2) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $half)) (local.get $w))))
            (local.set $a3 (i32x4.add (local.get $a3) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $half)) (local.get $w))))
            (local.set $t (i32.const 2))
            (block $tapsDone (loop $eachTap
              (br_if $tapsDone (i32.ge_u (local.get $t) (local.get $taps)))
              (local.set $p (i32.add (local.get $p) (local.get $width)))
              (local.set $v (v128.load (local.get $p)))
              (local.set $w (i32x4.splat (i32.load (i32.add (local.get $k) (i32.shl (local.get $t) (i32.const 2))))))
              (local.set $half (i16x8.extend_low_i8x16_u (local.get $v)))
              (local.set $a0 (i32x4.add (local.get $a0) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $half)) (local.get $w))))
              (local.set $a1 (i32x4.add (local.get $a1) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $half)) (local.get $w))))
              (local.set $half (i16x8.extend_high_i8x16_u (local.get $v)))
              (local.set $a2 (i32x4.add (local.get $a2) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $half)) (local.get $w))))
              (local.set $a3 (i32x4.add (local.get $a3) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $half)) (local.get $w))))
              (local.set $t (i32.add (local.get $t) (i32.const 1)))
              (br $eachTap)))))
          ;; Each sum clipped as `clip8` does, times 4: the offset of its byte's float in the table.
          (local.set $o (i32.add (local.get $out) (i32.shl (local.get $x) (i32.const 2))))
          (local.set $v (i32x4.shl (i32x4.min_s (i32x4.max_s (i32x4.shr_s (local.get $a0) (i32.const 22)) (v128.const i32x4 0 0 0 0)) (v128.const i32x4 255 255 255 255)) (i32.const 2)))
          (f32.store offset=0 (local.get $o) (f32.load (i32.add (local.get $tables) (i32x4.extract_lane 0 (local.get $v)))))
          (f32.store offset=4 (local.get $o) (f32.load (i32.add (local.get $tables) (i32x4.extract_lane 1 (local.get $v)))))
          (f32.store offset=8 (local.get $o) (f32.load (i32.add (local.get $tables) (i32x4.extract_lane 2 (local.get $v)))))
          (f32.store offset=12 (local.get $o) (f32.load (i32.add (local.get $tables) (i32x4.extract_lane 3 (local.get $v)))))
          (local.set $v (i32x4.shl (i32x4.min_s (i32x4.max_s (i32x4.shr_s (local.get $a1) (i32.const 22)) (v128.const i32x4 0 0 0 0)) (v128.const i32x4 255 255 255 255)) (i32.const 2)))
          (f32.store offset=16 (local.get $o) (f32.load (i32.add (local.get $tables) (i32x4.extract_lane 0 (local.get $v)))))
          (f32.store offset=20 (local.get $o) (f32.load (i32.add (local.get $tables) (i32x4.extract_lane 1 (local.get $v)))))
          (f32.store offset=24 (local.get $o) (f32.load (i32.add (local.get $tables) (i32x4.extract_lane 2 (local.get $v)))))
          (f32.store offset=28 (local.get $o) (f32.load (i32.add (local.get $tables) (i32x4.extract_lane 3 (local.get $v)))))
          (local.set $v (i32x4.shl (i32x4.min_s (i32x4.max_s (i32x4.shr_s (local.get $a2) (i32.const 22)) (v128.const i32x4 0 0 0 0)) (v128.const i32x4 255 255 255 255)) (i32.const 2)))
          (f32.store offset=32 (local.get $o) (f32.load (i32.add (local.get $tables) (i32x4.extract_lane 0 (local.get $v)))))
          (f32.store offset=36 (local.get $o) (f32.load (i32.add (local.get $tables) (i32x4.extract_lane 1 (local.get $v)))))
          (f32.store offset=40 (local.get $o) (f32.load (i32.add (local.get $tables) (i32x4.extract_lane 2 (local.get $v)))))
          (f32.store offset=44 (local.get $o) (f32.load (i32.add (local.get $tables) (i32x4.extract_lane 3 (local.get $v)))))
          (local.set $v (i32x4.shl (i32x4.min_s (i32x4.max_s (i32x4.shr_s (local.get $a3) (i32.const 22)) (v128.const i32x4 0 0 0 0)) (v128.const i32x4 255 255 255 255)) (i32.const 2)))
          (f32.store offset=48 (local.get $o) (f32.load (i32.add (local.get $tables) (i32x4.extract_lane 0 (local.get $v)))))
          (f32.store offset=52 (local.get $o) (f32.load (i32.add (local.get $tables) (i32x4.extract_lane 1 (local.get $v)))))
          (f32.store offset=56 (local.get $o) (f32.load (i32.add (local.get $tables) (i32x4.extract_lane 2 (local.get $v)))))
          (f32.store offset=60 (local.get $o) (f32.load (i32.add (local.get $tables) (i32x4.extract_lane 3 (local.get $v)))))
          (local.set $x (i32.add (local.get $x) (i32.const 16)))
          (br $eachGroup)))
        (local.set $out (i32.add (local.get $out) (i32.shl (local.get $width) (i32.const 2))))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $eachRow)))
      (local.set $tables (i32.add (local.get $tables) (i32.const 1024)))
      (br_if $eachChannel (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 1))) (i32.const 3)))))

)
