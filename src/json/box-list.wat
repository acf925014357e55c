;; `ByteCursor.boxList`'s common case in WebAssembly (box-scanner.ts runs it): a JSON list of
;; boxes `[[x1, y1, x2, y2], ...]` whose every number is a plain decimal on Clinger's fast path
;; (digits and an optional fraction, no exponent, an integer of its digits below 2^53, at most
;; 22 fraction digits): each is then that integer divided by an exact power of ten, one
;; correctly rounded division, the double JSON.parse gives. Anything else (another number, a
;; syntax error, the end of the bytes) answers -1 and the caller reads the list itself, from its
;; start: this module never refuses or accepts anything the caller would not.
;;
;; Why WebAssembly: the same byte loop in JavaScript pays a bounds check at every byte read;
;; here it is 1.6x as fast on 35 MB of Flickr predictions.
;;
;; Memory (laid out by the host): the 23 doubles 1e0..1e22 at address 0; the bytes, followed by
;; one 0 byte (a byte no rule below accepts, so no loop runs past it); the boxes written out.

(module
  (memory (export "memory") 1)

  ;; Where the last list read ends: the byte after its `]`.
  (global $next (export "next") (mut i32) (i32.const 0))

  ;; JSON whitespace (space, \n, \r, \t) from p; the address of the first byte that is not.
  (func $space (param $p i32) (result i32)
    (local $c i32)
    (block $done (loop $more
      (local.set $c (i32.load8_u (local.get $p)))
      (br_if $done (i32.eqz (i32.or
        (i32.or (i32.eq (local.get $c) (i32.const 0x20)) (i32.eq (local.get $c) (i32.const 0x0a)))
        (i32.or (i32.eq (local.get $c) (i32.const 0x0d)) (i32.eq (local.get $c) (i32.const 0x09))))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $more)))
    (local.get $p))

  ;; The list at p (after whitespace) into out, 4 doubles a box: how many boxes, -1 for a list
  ;; this does not read, -2 when there are more than `room` boxes (the host makes room and asks
  ;; again). `next` is then past the list.
  (func (export "boxList") (param $p i32) (param $out i32) (param $room i32) (result i32)
    (local $c i32) (local $count i32) (local $k i32) (local $negative i32) (local $exponent i32)
    (local $mantissa f64) (local $value f64)
    (local.set $p (call $space (local.get $p)))
    (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 0x5b)) (then (return (i32.const -1))))
    (local.set $p (call $space (i32.add (local.get $p) (i32.const 1))))
    (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 0x5d)) (then
      (global.set $next (i32.add (local.get $p) (i32.const 1)))
      (return (i32.const 0))))
    (loop $eachBox
      (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 0x5b)) (then (return (i32.const -1))))
      (if (i32.ge_u (local.get $count) (local.get $room)) (then (return (i32.const -2))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (local.set $k (i32.const 0))
      (loop $eachNumber
        ;; Whitespace is rare here: the call only where a byte can be some.
        (if (i32.le_u (i32.load8_u (local.get $p)) (i32.const 0x20)) (then (local.set $p (call $space (local.get $p)))))
        (local.set $c (i32.load8_u (local.get $p)))
        (local.set $negative (i32.eq (local.get $c) (i32.const 0x2d)))
        (if (local.get $negative) (then
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (local.set $c (i32.load8_u (local.get $p)))))
        ;; The digits' integer, as a double, as the JavaScript reader sums it (exact below 2^53).
        (local.set $mantissa (f64.const 0))
        (local.set $exponent (i32.const 0))
        (if (i32.eq (local.get $c) (i32.const 0x30))
          (then
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (local.set $c (i32.load8_u (local.get $p))))
          (else
            ;; 1-9 starts an integer part; anything else is no number.
            (if (i32.gt_u (i32.sub (local.get $c) (i32.const 0x31)) (i32.const 8)) (then (return (i32.const -1))))
            (loop $integerDigits
              (local.set $mantissa (f64.add (f64.mul (local.get $mantissa) (f64.const 10)) (f64.convert_i32_u (i32.sub (local.get $c) (i32.const 0x30)))))
              (local.set $p (i32.add (local.get $p) (i32.const 1)))
              (local.set $c (i32.load8_u (local.get $p)))
              (br_if $integerDigits (i32.le_u (i32.sub (local.get $c) (i32.const 0x30)) (i32.const 9))))))
        (if (i32.eq (local.get $c) (i32.const 0x2e)) (then
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (local.set $c (i32.load8_u (local.get $p)))
          (if (i32.gt_u (i32.sub (local.get $c) (i32.const 0x30)) (i32.const 9)) (then (return (i32.const -1))))
          (loop $fractionDigits
            (local.set $mantissa (f64.add (f64.mul (local.get $mantissa) (f64.const 10)) (f64.convert_i32_u (i32.sub (local.get $c) (i32.const 0x30)))))
            (local.set $exponent (i32.sub (local.get $exponent) (i32.const 1)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (local.set $c (i32.load8_u (local.get $p)))
            (br_if $fractionDigits (i32.le_u (i32.sub (local.get $c) (i32.const 0x30)) (i32.const 9))))))
        ;; An exponent (e or E), 2^53 or more, or past 1e22: not the fast path.
        (if (i32.or
              (i32.eq (i32.or (local.get $c) (i32.const 0x20)) (i32.const 0x65))
              (i32.or (f64.ge (local.get $mantissa) (f64.const 9007199254740992)) (i32.lt_s (local.get $exponent) (i32.const -22))))
          (then (return (i32.const -1))))
        (local.set $value (if (result f64) (local.get $exponent)
          (then (f64.div (local.get $mantissa) (f64.load (i32.shl (i32.sub (i32.const 0) (local.get $exponent)) (i32.const 3)))))
          (else (local.get $mantissa))))
        (f64.store
          (i32.add (local.get $out) (i32.shl (i32.add (i32.shl (local.get $count) (i32.const 2)) (local.get $k)) (i32.const 3)))
          (select (f64.neg (local.get $value)) (local.get $value) (local.get $negative)))
        ;; Then `,` after the first three numbers, `]` after the fourth.
        (if (i32.le_u (i32.load8_u (local.get $p)) (i32.const 0x20)) (then (local.set $p (call $space (local.get $p)))))
        (if (i32.ne (i32.load8_u (local.get $p)) (select (i32.const 0x2c) (i32.const 0x5d) (i32.lt_u (local.get $k) (i32.const 3))))
          (then (return (i32.const -1))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br_if $eachNumber (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (i32.const 4))))
      (local.set $count (i32.add (local.get $count) (i32.const 1)))
      (if (i32.le_u (i32.load8_u (local.get $p)) (i32.const 0x20)) (then (local.set $p (call $space (local.get $p)))))
      (local.set $c (i32.load8_u (local.get $p)))
      (if (i32.eq (local.get $c) (i32.const 0x5d)) (then
        (global.set $next (i32.add (local.get $p) (i32.const 1)))
        (return (local.get $count))))
      (if (i32.ne (local.get $c) (i32.const 0x2c)) (then (return (i32.const -1))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (if (i32.le_u (i32.load8_u (local.get $p)) (i32.const 0x20)) (then (local.set $p (call $space (local.get $p)))))
      (br $eachBox))
    (i32.const -1))
)
