;; The Dense engine's kernels: y = act(x W + b), eight output columns per pass.
;;
;; x is [rows][k] floats (row stride k), W is packed [colGroups][k][8], b is [colGroups * 8],
;; y is [rows][colGroups * 8]; pointers are in bytes. act = 1 applies max(v, alpha * v).
;; Both functions compute every output the same way: the bias, then x[i] * w[i] added for i in
;; input order, then the activation. So a row's result does not depend on which function or
;; which batch computed it (bit for bit), and `dense4` only shares each weight load among four
;; rows.
;;
;; Compiled by `deno task kernels` (wabt) into kernels.ts; tests/kernels_test.ts checks that the
;; committed bytes are this file's.
(module
  (import "env" "memory" (memory 0))
  ;; dense4(x, w, b, y, groups, k, colGroups, act, alpha): rows 0 .. 4 * groups - 1, four at a time.
  (func $dense4 (export "dense4")
    (param $x i32) (param $w i32) (param $b i32) (param $y i32) (param $groups i32)
    (param $k i32) (param $colGroups i32) (param $act i32) (param $alpha f32)
    (local $r i32) (local $j i32) (local $kk i32) (local $kx i32) (local $np i32)
    (local $wp i32) (local $bp i32) (local $yp i32) (local $x0 i32) (local $x1 i32) (local $x2 i32) (local $x3 i32)
    (local $w0 v128) (local $w1 v128) (local $xs v128) (local $al v128)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128) (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local.set $kx (i32.mul (local.get $k) (i32.const 4)))
    (local.set $np (i32.mul (local.get $colGroups) (i32.const 32)))
    (local.set $al (f32x4.splat (local.get $alpha)))
    (loop $rows (if (i32.lt_u (local.get $r) (local.get $groups)) (then
      (local.set $j (i32.const 0))
      (loop $cols (if (i32.lt_u (local.get $j) (local.get $colGroups)) (then
      ;; the accumulators start at the bias of these 8 columns
      (local.set $bp (i32.add (local.get $b) (i32.mul (local.get $j) (i32.const 32))))
      (local.set $a00 (v128.load (local.get $bp)))
      (local.set $a01 (v128.load offset=16 (local.get $bp)))
      (local.set $a10 (local.get $a00))
      (local.set $a11 (local.get $a01))
      (local.set $a20 (local.get $a00))
      (local.set $a21 (local.get $a01))
      (local.set $a30 (local.get $a00))
      (local.set $a31 (local.get $a01))
      (local.set $wp (i32.add (local.get $w) (i32.mul (local.get $j) (i32.mul (local.get $kx) (i32.const 8)))))
      (local.set $x0 (i32.add (local.get $x) (i32.mul (i32.mul (local.get $r) (i32.const 4)) (local.get $kx))))
      (local.set $x1 (i32.add (local.get $x0) (local.get $kx)))
      (local.set $x2 (i32.add (local.get $x1) (local.get $kx)))
      (local.set $x3 (i32.add (local.get $x2) (local.get $kx)))
      ;; products added in input order: acc += x[i] * w[i]
      (local.set $kk (local.get $k))
      (loop $inner (if (local.get $kk) (then
        (local.set $w0 (v128.load (local.get $wp)))
        (local.set $w1 (v128.load offset=16 (local.get $wp)))
        (local.set $xs (v128.load32_splat (local.get $x0)))
        (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $xs) (local.get $w0))))
        (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $xs) (local.get $w1))))
        (local.set $xs (v128.load32_splat (local.get $x1)))
        (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $xs) (local.get $w0))))
        (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $xs) (local.get $w1))))
        (local.set $xs (v128.load32_splat (local.get $x2)))
        (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $xs) (local.get $w0))))
        (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $xs) (local.get $w1))))
        (local.set $xs (v128.load32_splat (local.get $x3)))
        (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $xs) (local.get $w0))))
        (local.set $a31 (f32x4.add (local.get $a31) (f32x4.mul (local.get $xs) (local.get $w1))))
        (local.set $wp (i32.add (local.get $wp) (i32.const 32)))
        (local.set $x0 (i32.add (local.get $x0) (i32.const 4)))
        (local.set $x1 (i32.add (local.get $x1) (i32.const 4)))
        (local.set $x2 (i32.add (local.get $x2) (i32.const 4)))
        (local.set $x3 (i32.add (local.get $x3) (i32.const 4)))
        (local.set $kk (i32.sub (local.get $kk) (i32.const 1)))
        (br $inner))))
      ;; LeakyReLU (ReLU with alpha 0): max(v, alpha * v)
      (if (local.get $act) (then
      (local.set $a00 (f32x4.max (local.get $a00) (f32x4.mul (local.get $a00) (local.get $al))))
      (local.set $a01 (f32x4.max (local.get $a01) (f32x4.mul (local.get $a01) (local.get $al))))
      (local.set $a10 (f32x4.max (local.get $a10) (f32x4.mul (local.get $a10) (local.get $al))))
      (local.set $a11 (f32x4.max (local.get $a11) (f32x4.mul (local.get $a11) (local.get $al))))
      (local.set $a20 (f32x4.max (local.get $a20) (f32x4.mul (local.get $a20) (local.get $al))))
      (local.set $a21 (f32x4.max (local.get $a21) (f32x4.mul (local.get $a21) (local.get $al))))
      (local.set $a30 (f32x4.max (local.get $a30) (f32x4.mul (local.get $a30) (local.get $al))))
      (local.set $a31 (f32x4.max (local.get $a31) (f32x4.mul (local.get $a31) (local.get $al))))))
      (local.set $yp (i32.add (i32.add (local.get $y) (i32.mul (i32.mul (local.get $r) (i32.const 4)) (local.get $np))) (i32.mul (local.get $j) (i32.const 32))))
      (v128.store (local.get $yp) (local.get $a00))
      (v128.store offset=16 (local.get $yp) (local.get $a01))
      (local.set $yp (i32.add (local.get $yp) (local.get $np)))
      (v128.store (local.get $yp) (local.get $a10))
      (v128.store offset=16 (local.get $yp) (local.get $a11))
      (local.set $yp (i32.add (local.get $yp) (local.get $np)))
      (v128.store (local.get $yp) (local.get $a20))
      (v128.store offset=16 (local.get $yp) (local.get $a21))
      (local.set $yp (i32.add (local.get $yp) (local.get $np)))
      (v128.store (local.get $yp) (local.get $a30))
      (v128.store offset=16 (local.get $yp) (local.get $a31))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $cols))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rows))))
  )

  ;; dense1(x, w, b, y, rows, k, colGroups, act, alpha): `rows` rows, one at a time.
  (func $dense1 (export "dense1")
    (param $x i32) (param $w i32) (param $b i32) (param $y i32) (param $groups i32)
    (param $k i32) (param $colGroups i32) (param $act i32) (param $alpha f32)
    (local $r i32) (local $j i32) (local $kk i32) (local $kx i32) (local $np i32)
    (local $wp i32) (local $bp i32) (local $yp i32) (local $x0 i32)
    (local $w0 v128) (local $w1 v128) (local $xs v128) (local $al v128)
    (local $a00 v128) (local $a01 v128)
    (local.set $kx (i32.mul (local.get $k) (i32.const 4)))
    (local.set $np (i32.mul (local.get $colGroups) (i32.const 32)))
    (local.set $al (f32x4.splat (local.get $alpha)))
    (loop $rows (if (i32.lt_u (local.get $r) (local.get $groups)) (then
      (local.set $j (i32.const 0))
      (loop $cols (if (i32.lt_u (local.get $j) (local.get $colGroups)) (then
      ;; the accumulators start at the bias of these 8 columns
      (local.set $bp (i32.add (local.get $b) (i32.mul (local.get $j) (i32.const 32))))
      (local.set $a00 (v128.load (local.get $bp)))
      (local.set $a01 (v128.load offset=16 (local.get $bp)))
      (local.set $wp (i32.add (local.get $w) (i32.mul (local.get $j) (i32.mul (local.get $kx) (i32.const 8)))))
      (local.set $x0 (i32.add (local.get $x) (i32.mul (i32.mul (local.get $r) (i32.const 1)) (local.get $kx))))
      ;; products added in input order: acc += x[i] * w[i]
      (local.set $kk (local.get $k))
      (loop $inner (if (local.get $kk) (then
        (local.set $w0 (v128.load (local.get $wp)))
        (local.set $w1 (v128.load offset=16 (local.get $wp)))
        (local.set $xs (v128.load32_splat (local.get $x0)))
        (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $xs) (local.get $w0))))
        (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $xs) (local.get $w1))))
        (local.set $wp (i32.add (local.get $wp) (i32.const 32)))
        (local.set $x0 (i32.add (local.get $x0) (i32.const 4)))
        (local.set $kk (i32.sub (local.get $kk) (i32.const 1)))
        (br $inner))))
      ;; LeakyReLU (ReLU with alpha 0): max(v, alpha * v)
      (if (local.get $act) (then
      (local.set $a00 (f32x4.max (local.get $a00) (f32x4.mul (local.get $a00) (local.get $al))))
      (local.set $a01 (f32x4.max (local.get $a01) (f32x4.mul (local.get $a01) (local.get $al))))))
      (local.set $yp (i32.add (i32.add (local.get $y) (i32.mul (i32.mul (local.get $r) (i32.const 1)) (local.get $np))) (i32.mul (local.get $j) (i32.const 32))))
      (v128.store (local.get $yp) (local.get $a00))
      (v128.store offset=16 (local.get $yp) (local.get $a01))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $cols))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rows))))
  )

  ;; pack(src, dst, inDim, outDim, k): copies a Dense kernel [inDim][outDim] (tfjs's layout) into
  ;; the engine's [colGroups][k][8] layout, as 32-bit words. Padding stays as the caller left it
  ;; (zeros). The JavaScript loop it replaces took ~30 ms at a cold start for the default G.
  (func $pack (export "pack")
    (param $src i32) (param $dst i32) (param $inDim i32) (param $outDim i32) (param $k i32)
    (local $i i32) (local $j i32) (local $full i32) (local $to i32)
    ;; Source row i, columns j: dst word ((j >> 3) * k + i) * 8 + (j & 7). Whole groups of 8
    ;; columns move as two v128s (a 3 MB net packs in ~1 ms at start-up, before its code is
    ;; optimised; word by word it took several); a last partial group moves word by word.
    (local.set $full (i32.and (local.get $outDim) (i32.const -8)))
    (loop $rows (if (i32.lt_u (local.get $i) (local.get $inDim)) (then
      ;; group 0 of row i sits at word i * 8; each next group k * 8 words further
      (local.set $to (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 5))))
      (local.set $j (i32.const 0))
      (loop $groups (if (i32.lt_u (local.get $j) (local.get $full)) (then
        (v128.store (local.get $to) (v128.load (local.get $src)))
        (v128.store offset=16 (local.get $to) (v128.load offset=16 (local.get $src)))
        (local.set $src (i32.add (local.get $src) (i32.const 32)))
        (local.set $to (i32.add (local.get $to) (i32.shl (local.get $k) (i32.const 5))))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $groups))))
      (loop $tail (if (i32.lt_u (local.get $j) (local.get $outDim)) (then
        (i32.store
          (i32.add (local.get $to) (i32.shl (i32.and (local.get $j) (i32.const 7)) (i32.const 2)))
          (i32.load (local.get $src)))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $tail))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $rows))))
  )

  ;; tanh(p, count): tanh of `count` floats (a multiple of 4) at byte p, in place: a rational
  ;; function x * P(x^2) / Q(x^2), each of degree 4 in x^2, on x clamped to [-9, 9] (beyond that
  ;; tanh is 1 in float32). The coefficients were fitted by weighted least squares (reweighted
  ;; towards the worst error until it levelled) on [0, 9]; evaluated in float32 the error stays
  ;; below 4e-7 of Math.tanh (tests/dense_net_test.ts checks 1e-6 on a dense grid). It replaced
  ;; a JavaScript Math.tanh loop that took 14 us of a 784-pixel sample (this machine).
  (func $tanh (export "tanh") (param $p i32) (param $count i32)
    (local $x v128) (local $x2 v128) (local $num v128) (local $den v128) (local $end i32)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $count) (i32.const 2))))
    (loop $vectors (if (i32.lt_u (local.get $p) (local.get $end)) (then
      (local.set $x (f32x4.min (f32x4.splat (f32.const 9))
        (f32x4.max (f32x4.splat (f32.const -9)) (v128.load (local.get $p)))))
      (local.set $x2 (f32x4.mul (local.get $x) (local.get $x)))
      (local.set $num (f32x4.splat (f32.const 1.3289271016958537e-08)))
      (local.set $num (f32x4.add (f32x4.splat (f32.const 2.0558809410431422e-05)) (f32x4.mul (local.get $x2) (local.get $num))))
      (local.set $num (f32x4.add (f32x4.splat (f32.const 0.0034924172796308994)) (f32x4.mul (local.get $x2) (local.get $num))))
      (local.set $num (f32x4.add (f32x4.splat (f32.const 0.1337832510471344)) (f32x4.mul (local.get $x2) (local.get $num))))
      (local.set $num (f32x4.add (f32x4.splat (f32.const 1.0)) (f32x4.mul (local.get $x2) (local.get $num))))
      (local.set $den (f32x4.splat (f32.const 7.7488573424489e-07)))
      (local.set $den (f32x4.add (f32x4.splat (f32.const 0.0003280526725575328)) (f32x4.mul (local.get $x2) (local.get $den))))
      (local.set $den (f32x4.add (f32x4.splat (f32.const 0.025864819064736366)) (f32x4.mul (local.get $x2) (local.get $den))))
      (local.set $den (f32x4.add (f32x4.splat (f32.const 0.46711641550064087)) (f32x4.mul (local.get $x2) (local.get $den))))
      (local.set $den (f32x4.add (f32x4.splat (f32.const 1.0)) (f32x4.mul (local.get $x2) (local.get $den))))
      (v128.store (local.get $p)
        (f32x4.div (f32x4.mul (local.get $x) (local.get $num)) (local.get $den)))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br $vectors))))
  )
)
