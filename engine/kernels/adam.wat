;; The Adam update for training (train/adam_simd.ts), four floats per instruction, float32:
;;   m' = b1*m + c1*g;  v' = b2*v + c2*(g*g);  out = w - (step*m') / (sqrt(v')*inv + eps)
;; m and v are updated in place; `quads` groups of four floats; pointers in bytes. The caller
;; runs the last n % 4 elements in JavaScript with the same float32 operations.
;;
;; Compiled by `deno task kernels` (wabt) into kernels.ts; tests/kernels_test.ts checks that the
;; committed bytes are this file's.
(module
  (import "env" "memory" (memory 0))
  (func $adam (export "adam")
    (param $w i32) (param $g i32) (param $m i32) (param $v i32) (param $out i32) (param $quads i32)
    (param $b1 f32) (param $c1 f32) (param $b2 f32) (param $c2 f32) (param $step f32)
    (param $inv f32) (param $eps f32)
    (local $B1 v128) (local $C1 v128) (local $B2 v128) (local $C2 v128) (local $STEP v128)
    (local $INV v128) (local $EPS v128) (local $mNew v128) (local $vNew v128) (local $grad v128)
    (local.set $B1 (f32x4.splat (local.get $b1)))
    (local.set $C1 (f32x4.splat (local.get $c1)))
    (local.set $B2 (f32x4.splat (local.get $b2)))
    (local.set $C2 (f32x4.splat (local.get $c2)))
    (local.set $STEP (f32x4.splat (local.get $step)))
    (local.set $INV (f32x4.splat (local.get $inv)))
    (local.set $EPS (f32x4.splat (local.get $eps)))
    (loop $quad (if (local.get $quads) (then
      (local.set $grad (v128.load (local.get $g)))
      (local.set $mNew (f32x4.add
        (f32x4.mul (local.get $B1) (v128.load (local.get $m)))
        (f32x4.mul (local.get $C1) (local.get $grad))))
      (v128.store (local.get $m) (local.get $mNew))
      (local.set $vNew (f32x4.add
        (f32x4.mul (local.get $B2) (v128.load (local.get $v)))
        (f32x4.mul (local.get $C2) (f32x4.mul (local.get $grad) (local.get $grad)))))
      (v128.store (local.get $v) (local.get $vNew))
      (v128.store (local.get $out) (f32x4.sub
        (v128.load (local.get $w))
        (f32x4.div
          (f32x4.mul (local.get $STEP) (local.get $mNew))
          (f32x4.add (f32x4.mul (f32x4.sqrt (local.get $vNew)) (local.get $INV)) (local.get $EPS)))))
      (local.set $w (i32.add (local.get $w) (i32.const 16)))
      (local.set $g (i32.add (local.get $g) (i32.const 16)))
      (local.set $m (i32.add (local.get $m) (i32.const 16)))
      (local.set $v (i32.add (local.get $v) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (local.set $quads (i32.sub (local.get $quads) (i32.const 1)))
      (br $quad))))
  )
)
