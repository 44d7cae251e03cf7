;; The training GEMM (train/fused.ts): C = act(A B + bias) with every operand addressed by strides,
;; so one kernel computes a layer's forward product (H W), its weight gradient (H^T dY, A read
;; down its columns) and its input gradient (dY W^T, with W^T kept beside W), with no copies.
;;
;;   A(r, i)         the float at a + r * aRow + i * aCol         (r < rows, i < k)
;;   B(i, 8j .. 8j+7) the 8 floats at b + i * bRow + j * 32         (j < colGroups)
;;   C(r, 8j .. 8j+7) the 8 floats at c + r * cRow + j * 32
;;
;; All pointers and strides are in bytes. The bias (8 * colGroups floats) starts the sums; bias 0
;; means none (the sums start at 0). act = 1 applies LeakyReLU max(v, alpha * v). Products are
;; added in the order i = 0, 1, ..., k - 1, so a row's result does not depend on which function
;; or which batch computed it. `gemm4` shares each load of B among four rows of A; `gemm1` does
;; the rows left over (the caller offsets a and c).
;;
;; Compiled by `deno task kernels` (wabt) into kernels.ts; tests/kernels_test.ts checks that the
;; committed bytes are this file's.
(module
  (import "env" "memory" (memory 0))

  ;; gemm4(a, aRow, aCol, b, bRow, c, cRow, bias, quads, k, colGroups, act, alpha):
  ;; rows 0 .. 4 * quads - 1.
  (func $gemm4 (export "gemm4")
    (param $a i32) (param $aRow i32) (param $aCol i32) (param $b i32) (param $bRow i32)
    (param $c i32) (param $cRow i32) (param $bias i32) (param $quads i32) (param $k i32)
    (param $colGroups i32) (param $act i32) (param $alpha f32)
    (local $q i32) (local $j i32) (local $kk i32) (local $bp i32) (local $cp i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32)
    (local $w0 v128) (local $w1 v128) (local $xs v128) (local $al v128) (local $start0 v128) (local $start1 v128)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local.set $al (f32x4.splat (local.get $alpha)))
    (loop $rows (if (i32.lt_u (local.get $q) (local.get $quads)) (then
      (local.set $j (i32.const 0))
      (loop $cols (if (i32.lt_u (local.get $j) (local.get $colGroups)) (then
        ;; the sums start at the bias of these 8 columns, or at 0
        (if (local.get $bias)
          (then
            (local.set $start0 (v128.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 5)))))
            (local.set $start1 (v128.load offset=16 (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 5))))))
          (else
            (local.set $start0 (v128.const f32x4 0 0 0 0))
            (local.set $start1 (v128.const f32x4 0 0 0 0))))
        (local.set $a00 (local.get $start0)) (local.set $a01 (local.get $start1))
        (local.set $a10 (local.get $start0)) (local.set $a11 (local.get $start1))
        (local.set $a20 (local.get $start0)) (local.set $a21 (local.get $start1))
        (local.set $a30 (local.get $start0)) (local.set $a31 (local.get $start1))
        (local.set $bp (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 5))))
        (local.set $p0 (i32.add (local.get $a) (i32.mul (i32.shl (local.get $q) (i32.const 2)) (local.get $aRow))))
        (local.set $p1 (i32.add (local.get $p0) (local.get $aRow)))
        (local.set $p2 (i32.add (local.get $p1) (local.get $aRow)))
        (local.set $p3 (i32.add (local.get $p2) (local.get $aRow)))
        (local.set $kk (local.get $k))
        (loop $inner (if (local.get $kk) (then
          (local.set $w0 (v128.load (local.get $bp)))
          (local.set $w1 (v128.load offset=16 (local.get $bp)))
          (local.set $xs (v128.load32_splat (local.get $p0)))
          (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $xs) (local.get $w0))))
          (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $xs) (local.get $w1))))
          (local.set $xs (v128.load32_splat (local.get $p1)))
          (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $xs) (local.get $w0))))
          (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $xs) (local.get $w1))))
          (local.set $xs (v128.load32_splat (local.get $p2)))
          (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $xs) (local.get $w0))))
          (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $xs) (local.get $w1))))
          (local.set $xs (v128.load32_splat (local.get $p3)))
          (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $xs) (local.get $w0))))
          (local.set $a31 (f32x4.add (local.get $a31) (f32x4.mul (local.get $xs) (local.get $w1))))
          (local.set $bp (i32.add (local.get $bp) (local.get $bRow)))
          (local.set $p0 (i32.add (local.get $p0) (local.get $aCol)))
          (local.set $p1 (i32.add (local.get $p1) (local.get $aCol)))
          (local.set $p2 (i32.add (local.get $p2) (local.get $aCol)))
          (local.set $p3 (i32.add (local.get $p3) (local.get $aCol)))
          (local.set $kk (i32.sub (local.get $kk) (i32.const 1)))
          (br $inner))))
        ;; LeakyReLU: max(v, alpha * v)
        (if (local.get $act) (then
          (local.set $a00 (f32x4.max (local.get $a00) (f32x4.mul (local.get $a00) (local.get $al))))
          (local.set $a01 (f32x4.max (local.get $a01) (f32x4.mul (local.get $a01) (local.get $al))))
          (local.set $a10 (f32x4.max (local.get $a10) (f32x4.mul (local.get $a10) (local.get $al))))
          (local.set $a11 (f32x4.max (local.get $a11) (f32x4.mul (local.get $a11) (local.get $al))))
          (local.set $a20 (f32x4.max (local.get $a20) (f32x4.mul (local.get $a20) (local.get $al))))
          (local.set $a21 (f32x4.max (local.get $a21) (f32x4.mul (local.get $a21) (local.get $al))))
          (local.set $a30 (f32x4.max (local.get $a30) (f32x4.mul (local.get $a30) (local.get $al))))
          (local.set $a31 (f32x4.max (local.get $a31) (f32x4.mul (local.get $a31) (local.get $al))))))
        (local.set $cp (i32.add
          (i32.add (local.get $c) (i32.mul (i32.shl (local.get $q) (i32.const 2)) (local.get $cRow)))
          (i32.shl (local.get $j) (i32.const 5))))
        (v128.store (local.get $cp) (local.get $a00))
        (v128.store offset=16 (local.get $cp) (local.get $a01))
        (local.set $cp (i32.add (local.get $cp) (local.get $cRow)))
        (v128.store (local.get $cp) (local.get $a10))
        (v128.store offset=16 (local.get $cp) (local.get $a11))
        (local.set $cp (i32.add (local.get $cp) (local.get $cRow)))
        (v128.store (local.get $cp) (local.get $a20))
        (v128.store offset=16 (local.get $cp) (local.get $a21))
        (local.set $cp (i32.add (local.get $cp) (local.get $cRow)))
        (v128.store (local.get $cp) (local.get $a30))
        (v128.store offset=16 (local.get $cp) (local.get $a31))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $cols))))
      (local.set $q (i32.add (local.get $q) (i32.const 1)))
      (br $rows))))
  )

  ;; gemm1(a, aRow, aCol, b, bRow, c, cRow, bias, rows, k, colGroups, act, alpha): one row at a
  ;; time, the same arithmetic as gemm4.
  (func $gemm1 (export "gemm1")
    (param $a i32) (param $aRow i32) (param $aCol i32) (param $b i32) (param $bRow i32)
    (param $c i32) (param $cRow i32) (param $bias i32) (param $rows i32) (param $k i32)
    (param $colGroups i32) (param $act i32) (param $alpha f32)
    (local $r i32) (local $j i32) (local $kk i32) (local $bp i32) (local $cp i32) (local $p0 i32)
    (local $xs v128) (local $al v128) (local $a00 v128) (local $a01 v128)
    (local.set $al (f32x4.splat (local.get $alpha)))
    (loop $rows (if (i32.lt_u (local.get $r) (local.get $rows)) (then
      (local.set $j (i32.const 0))
      (loop $cols (if (i32.lt_u (local.get $j) (local.get $colGroups)) (then
        (if (local.get $bias)
          (then
            (local.set $a00 (v128.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 5)))))
            (local.set $a01 (v128.load offset=16 (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 5))))))
          (else
            (local.set $a00 (v128.const f32x4 0 0 0 0))
            (local.set $a01 (v128.const f32x4 0 0 0 0))))
        (local.set $bp (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 5))))
        (local.set $p0 (i32.add (local.get $a) (i32.mul (local.get $r) (local.get $aRow))))
        (local.set $kk (local.get $k))
        (loop $inner (if (local.get $kk) (then
          (local.set $xs (v128.load32_splat (local.get $p0)))
          (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $xs) (v128.load (local.get $bp)))))
          (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $xs) (v128.load offset=16 (local.get $bp)))))
          (local.set $bp (i32.add (local.get $bp) (local.get $bRow)))
          (local.set $p0 (i32.add (local.get $p0) (local.get $aCol)))
          (local.set $kk (i32.sub (local.get $kk) (i32.const 1)))
          (br $inner))))
        (if (local.get $act) (then
          (local.set $a00 (f32x4.max (local.get $a00) (f32x4.mul (local.get $a00) (local.get $al))))
          (local.set $a01 (f32x4.max (local.get $a01) (f32x4.mul (local.get $a01) (local.get $al))))))
        (local.set $cp (i32.add
          (i32.add (local.get $c) (i32.mul (local.get $r) (local.get $cRow)))
          (i32.shl (local.get $j) (i32.const 5))))
        (v128.store (local.get $cp) (local.get $a00))
        (v128.store offset=16 (local.get $cp) (local.get $a01))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $cols))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rows))))
  )

  ;; transpose(src, dst, rows, cols, dstRow): dst[j][i] = src[i][j] for a row-major rows x cols
  ;; matrix of 32-bit words; dst rows are dstRow bytes apart (room for padding the caller zeroed).
  (func $transpose (export "transpose")
    (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32) (param $dstRow i32)
    (local $i i32) (local $j i32) (local $d i32)
    (loop $r (if (i32.lt_u (local.get $i) (local.get $rows)) (then
      (local.set $j (i32.const 0))
      (local.set $d (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2))))
      (loop $c (if (i32.lt_u (local.get $j) (local.get $cols)) (then
        (i32.store (local.get $d) (i32.load (local.get $src)))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (local.set $d (i32.add (local.get $d) (local.get $dstRow)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $c))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $r))))
  )
)
