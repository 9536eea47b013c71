//go:build ignore

// gen_asm.go writes the amd64 assembly kernels of this package:
//
//	go run gen_asm.go   (or go generate)
//
// Each kernel is emitted for AVX-512 (zmm, 16 floats) and, where useful, for
// AVX2+FMA+F16C (ymm, 8 floats) from one description, so the variants stay
// identical in structure.
package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
)

var out, decl bytes.Buffer

func p(format string, args ...any) { fmt.Fprintf(&out, "\t"+format+"\n", args...) }
func label(l string)               { fmt.Fprintf(&out, "%s:\n", l) }

// isa describes one vector width.
type isa struct {
	name  string // function suffix
	v     string // register prefix: "Z" or "Y"
	lanes int    // float32 lanes
	tmp   int    // temporary registers base (w vectors) — below 16 for VEX
}

var avx512 = isa{"AVX512", "Z", 16, 16}
var avx2 = isa{"AVX2", "Y", 8, 8}

func (s isa) r(i int) string { return fmt.Sprintf("%s%d", s.v, i) }

// loadW emits code that loads `lanes` weights of kind at byte offset off from
// (DX)(AX*esize) into register dst as float32.
func loadW(s isa, kind string, off int, dst string) {
	switch kind {
	case "F32":
		p("VMOVUPS %d(DX)(AX*4), %s", off*4, dst)
	case "F16":
		p("VCVTPH2PS %d(DX)(AX*2), %s", off*2, dst)
	case "BF16":
		p("VPMOVZXWD %d(DX)(AX*2), %s", off*2, dst)
		p("VPSLLD $16, %s, %s", dst, dst)
	}
}

// hsum reduces vector register acc (index i) to its low float in Xi, using
// register `t` as scratch (8 in the VEX forms; any in the EVEX forms).
func hsum(s isa, i int) { hsumT(s, i, 8) }

func hsumT(s isa, i, t int) {
	if s.v == "Z" {
		p("VEXTRACTF64X4 $1, Z%d, Y%d", i, t)
		p("VADDPS Y%d, Y%d, Y%d", t, i, i)
		p("VEXTRACTF32X4 $1, Y%d, X%d", i, t)
	} else {
		p("VEXTRACTF128 $1, Y%d, X%d", i, t)
	}
	p("VADDPS X%d, X%d, X%d", t, i, i)
	p("VPERMILPS $0x4e, X%d, X%d", i, t)
	p("VADDPS X%d, X%d, X%d", t, i, i)
	p("VPERMILPS $0xb1, X%d, X%d", i, t)
	p("VADDPS X%d, X%d, X%d", t, i, i)
}

var xregs = []string{"SI", "R11", "R12", "R13"}

// gemv emits gemv<kind>x<nx><isa>(out *float32, ldo int, x *float32, k int,
// kk int, w unsafe.Pointer, rows int): for r < rows and b < nx,
// out[b*ldo+r] = Σ_{e<kk} x[b*k+e]·w[r*k+e]. kk is a multiple of lanes.
// Two weight vectors per iteration; accumulators Z(2b), Z(2b+1).
func gemv(s isa, kind string, nx int) {
	esize := map[string]int{"F32": 4, "F16": 2, "BF16": 2}[kind]
	name := fmt.Sprintf("gemv%sx%d%s", kind, nx, s.name)
	fmt.Fprintf(&out, "\n// func %s(out *float32, ldo int, x *float32, k int, kk int, w unsafe.Pointer, rows int)\n", name)
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-56\n", name)
	fmt.Fprintf(&decl, "\n//go:noescape\nfunc %s(out *float32, ldo int, x *float32, k int, kk int, w unsafe.Pointer, rows int)\n", name)
	p("MOVQ out+0(FP), DI")
	p("MOVQ ldo+8(FP), R8")
	p("SHLQ $2, R8")
	p("MOVQ x+16(FP), SI")
	p("MOVQ k+24(FP), R9")
	for b := 1; b < nx; b++ {
		p("LEAQ (%s)(R9*4), %s", xregs[b-1], xregs[b])
	}
	p("IMULQ $%d, R9", esize)
	p("MOVQ kk+32(FP), R10")
	p("MOVQ R10, R14")
	p("ANDQ $-%d, R14", 2*s.lanes)
	p("MOVQ w+40(FP), DX")
	p("MOVQ rows+48(FP), CX")
	p("TESTQ CX, CX")
	p("JZ %s_done", name)
	w0, w1 := s.r(s.tmp), s.r(s.tmp+1)
	if s.v == "Y" {
		w0, w1 = "Y14", "Y15"
	}
	label(name + "_row")
	for i := 0; i < 2*nx; i++ {
		p("VXORPS %s, %s, %s", s.r(i), s.r(i), s.r(i))
	}
	p("XORQ AX, AX")
	p("TESTQ R14, R14")
	p("JZ %s_tail", name)
	label(name + "_loop")
	// Weights stream from DRAM: prefetch ~2 KiB ahead (one line per 64
	// bytes consumed) so enough requests are in flight per core.
	for off := 0; off < 2*s.lanes*esize; off += 64 {
		p("PREFETCHT0 %d(DX)(AX*%d)", 2048+off, esize)
	}
	loadW(s, kind, 0, w0)
	loadW(s, kind, s.lanes, w1)
	for b := 0; b < nx; b++ {
		p("VFMADD231PS (%s)(AX*4), %s, %s", xregs[b], w0, s.r(2*b))
		p("VFMADD231PS %d(%s)(AX*4), %s, %s", 4*s.lanes, xregs[b], w1, s.r(2*b+1))
	}
	p("ADDQ $%d, AX", 2*s.lanes)
	p("CMPQ AX, R14")
	p("JLT %s_loop", name)
	label(name + "_tail")
	p("CMPQ AX, R10")
	p("JGE %s_reduce", name)
	loadW(s, kind, 0, w0)
	for b := 0; b < nx; b++ {
		p("VFMADD231PS (%s)(AX*4), %s, %s", xregs[b], w0, s.r(2*b))
	}
	label(name + "_reduce")
	p("MOVQ DI, BX")
	for b := 0; b < nx; b++ {
		p("VADDPS %s, %s, %s", s.r(2*b+1), s.r(2*b), s.r(2*b))
		hsum(s, 2*b)
		p("VMOVSS X%d, (BX)", 2*b)
		if b+1 < nx {
			p("ADDQ R8, BX")
		}
	}
	p("ADDQ $4, DI")
	p("ADDQ R9, DX")
	p("DECQ CX")
	p("JNZ %s_row", name)
	label(name + "_done")
	p("VZEROUPPER")
	p("RET")
}

// sgemm emits sgemmDot4x6AVX512(a *float32, lda int, b *float32, ldb int,
// c *float32, ldc int, k int): C[i*ldc+j] += Σ_{p<k} a[i*lda+p]·b[j*ldb+p]
// for i < 4, j < 6; k is a multiple of 16. Both operands stream along k
// (the "dot" form: no packing), 24 accumulators Z0–Z23 (acc i,j = Z(6i+j)),
// A rows in Z24–Z27, B rows loaded one at a time into Z28/Z29.
func sgemm() {
	name := "sgemmDot4x6AVX512"
	args := "a *float32, lda int, b *float32, ldb int, c *float32, ldc int, k int"
	fmt.Fprintf(&out, "\n// func %s(%s)\n", name, args)
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-56\n", name)
	fmt.Fprintf(&decl, "\n//go:noescape\nfunc %s(%s)\n", name, args)
	ar := []string{"SI", "R8", "R9", "R10"}
	br := []string{"DX", "R11", "R12", "R13", "R14", "R15"}
	p("MOVQ a+0(FP), SI")
	p("MOVQ lda+8(FP), BX")
	p("SHLQ $2, BX")
	for i := 1; i < 4; i++ {
		p("LEAQ (%s)(BX*1), %s", ar[i-1], ar[i])
	}
	p("MOVQ b+16(FP), DX")
	p("MOVQ ldb+24(FP), BX")
	p("SHLQ $2, BX")
	for j := 1; j < 6; j++ {
		p("LEAQ (%s)(BX*1), %s", br[j-1], br[j])
	}
	p("MOVQ k+48(FP), CX")
	for i := 0; i < 24; i++ {
		p("VPXORD Z%d, Z%d, Z%d", i, i, i)
	}
	p("XORQ AX, AX")
	p("TESTQ CX, CX")
	p("JZ %s_reduce", name)
	label(name + "_loop")
	for i := 0; i < 4; i++ {
		p("VMOVUPS (%s)(AX*4), Z%d", ar[i], 24+i)
	}
	for j := 0; j < 6; j++ {
		t := 28 + j%2
		p("VMOVUPS (%s)(AX*4), Z%d", br[j], t)
		for i := 0; i < 4; i++ {
			p("VFMADD231PS Z%d, Z%d, Z%d", t, 24+i, 6*i+j)
		}
	}
	p("ADDQ $16, AX")
	p("CMPQ AX, CX")
	p("JLT %s_loop", name)
	label(name + "_reduce")
	// Reduce each accumulator and add it into C.
	p("MOVQ c+32(FP), DI")
	p("MOVQ ldc+40(FP), BX")
	p("SHLQ $2, BX")
	for i := 0; i < 4; i++ {
		for j := 0; j < 6; j++ {
			r := 6*i + j
			hsumT(avx512, r, 31)
			p("VADDSS %d(DI), X%d, X%d", 4*j, r, r)
			p("VMOVSS X%d, %d(DI)", r, 4*j)
		}
		if i < 3 {
			p("ADDQ BX, DI")
		}
	}
	p("VZEROUPPER")
	p("RET")
}

// axpy emits axpy<kind>x<np>w<cw>AVX512(acc *float32, lda int, p *float32,
// ldp int, w unsafe.Pointer, ldw int, rows int): for i < np and the 16·cw
// columns at acc and w, acc[i*lda+e] += Σ_{j<rows} p[i*ldp+j]·w[j*ldw+e].
func axpy(kind string, np, cw int) {
	esize := map[string]int{"F32": 4, "F16": 2, "BF16": 2}[kind]
	name := fmt.Sprintf("axpy%sx%dw%dAVX512", kind, np, cw)
	args := "acc *float32, lda int, p *float32, ldp int, w unsafe.Pointer, ldw int, rows int"
	fmt.Fprintf(&out, "\n// func %s(%s)\n", name, args)
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-56\n", name)
	fmt.Fprintf(&decl, "\n//go:noescape\nfunc %s(%s)\n", name, args)
	pr := []string{"SI", "R8", "R9", "R10"}
	p("MOVQ p+16(FP), SI")
	p("MOVQ ldp+24(FP), BX")
	p("SHLQ $2, BX")
	for i := 1; i < np; i++ {
		p("LEAQ (%s)(BX*1), %s", pr[i-1], pr[i])
	}
	p("MOVQ w+32(FP), DX")
	p("MOVQ ldw+40(FP), R11")
	p("IMULQ $%d, R11", esize)
	p("MOVQ rows+48(FP), CX")
	for r := 0; r < np*cw; r++ {
		p("VPXORD Z%d, Z%d, Z%d", r, r, r)
	}
	p("XORQ AX, AX")
	p("TESTQ CX, CX")
	p("JZ %s_store", name)
	label(name + "_loop")
	for c := 0; c < cw; c++ {
		dst := fmt.Sprintf("Z%d", 16+c)
		switch kind {
		case "F32":
			p("VMOVUPS %d(DX), %s", 64*c, dst)
		case "F16":
			p("VCVTPH2PS %d(DX), %s", 32*c, dst)
		case "BF16":
			p("VPMOVZXWD %d(DX), %s", 32*c, dst)
			p("VPSLLD $16, %s, %s", dst, dst)
		}
	}
	for i := 0; i < np; i++ {
		p("VBROADCASTSS (%s)(AX*4), Z%d", pr[i], 20+i)
		for c := 0; c < cw; c++ {
			p("VFMADD231PS Z%d, Z%d, Z%d", 16+c, 20+i, i*cw+c)
		}
	}
	p("ADDQ R11, DX")
	p("INCQ AX")
	p("CMPQ AX, CX")
	p("JLT %s_loop", name)
	label(name + "_store")
	p("MOVQ acc+0(FP), DI")
	p("MOVQ lda+8(FP), BX")
	p("SHLQ $2, BX")
	for i := 0; i < np; i++ {
		for c := 0; c < cw; c++ {
			r := i*cw + c
			p("VADDPS %d(DI), Z%d, Z%d", 64*c, r, r)
			p("VMOVUPS Z%d, %d(DI)", r, 64*c)
		}
		if i+1 < np {
			p("ADDQ BX, DI")
		}
	}
	p("VZEROUPPER")
	p("RET")
}

// cvt emits cvt<kind><isa>(dst *float32, src *uint16, n int): dst[i] =
// float32(src[i]) for i < n, n a multiple of 2·lanes.
func cvt(s isa, kind string) {
	name := fmt.Sprintf("cvt%s%s", kind, s.name)
	args := "dst *float32, src *uint16, n int"
	fmt.Fprintf(&out, "\n// func %s(%s)\n", name, args)
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-24\n", name)
	fmt.Fprintf(&decl, "\n//go:noescape\nfunc %s(%s)\n", name, args)
	p("MOVQ dst+0(FP), DI")
	p("MOVQ src+8(FP), SI")
	p("MOVQ n+16(FP), CX")
	p("XORQ AX, AX")
	p("TESTQ CX, CX")
	p("JZ %s_done", name)
	label(name + "_loop")
	for u := 0; u < 2; u++ {
		r := s.r(u)
		switch kind {
		case "F16":
			p("VCVTPH2PS %d(SI)(AX*2), %s", 2*s.lanes*u, r)
		case "BF16":
			p("VPMOVZXWD %d(SI)(AX*2), %s", 2*s.lanes*u, r)
			p("VPSLLD $16, %s, %s", r, r)
		}
		p("VMOVUPS %s, %d(DI)(AX*4)", r, 4*s.lanes*u)
	}
	p("ADDQ $%d, AX", 2*s.lanes)
	p("CMPQ AX, CX")
	p("JLT %s_loop", name)
	label(name + "_done")
	p("VZEROUPPER")
	p("RET")
}

// dequant emits dequant<bits>AVX512(dst *float32, w *uint32, s *float32,
// b *float32, groups int, gs int): dst[e] = s[g]·q_e + b[g] for the
// groups·gs elements of consecutive groups; gs is a multiple of 16.
func dequant(bits int, bf16 bool) {
	name := fmt.Sprintf("dequant%dAVX512", bits)
	args := "dst *float32, w *uint32, s *float32, b *float32, groups int, gs int, consts *int32"
	if bf16 {
		// Same, storing bfloat16 (VCVTNEPS2BF16) for the bf16 GEMM.
		name = fmt.Sprintf("dequant%dBF16AVX512", bits)
		args = "dst *uint16, w *uint32, s *float32, b *float32, groups int, gs int, consts *int32"
	}
	fmt.Fprintf(&out, "\n// func %s(%s)\n", name, args)
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-56\n", name)
	fmt.Fprintf(&decl, "\n//go:noescape\nfunc %s(%s)\n", name, args)
	p("MOVQ dst+0(FP), DI")
	p("MOVQ w+8(FP), SI")
	p("MOVQ s+16(FP), R8")
	p("MOVQ b+24(FP), R9")
	p("MOVQ groups+32(FP), CX")
	p("MOVQ gs+40(FP), R10")
	p("SHRQ $4, R10")
	if bits == 4 {
		// Lane l takes word consts[l] shifted right by consts[16+l].
		p("MOVQ consts+48(FP), AX")
		p("VMOVDQU32 (AX), Z30")
		p("VMOVDQU32 64(AX), Z29")
		p("MOVL $0x0F, AX")
		p("VPBROADCASTD AX, Z31")
	}
	p("TESTQ CX, CX")
	p("JZ %s_done", name)
	label(name + "_group")
	p("VBROADCASTSS (R8), Z2")
	p("VBROADCASTSS (R9), Z3")
	p("MOVQ R10, DX")
	label(name + "_loop")
	if bits == 4 {
		p("VPBROADCASTQ (SI), Z1")
		p("VPERMD Z1, Z30, Z1")
		p("VPSRLVD Z29, Z1, Z1")
		p("VPANDD Z31, Z1, Z1")
		p("ADDQ $8, SI")
	} else {
		p("VPMOVZXBD (SI), Z1")
		p("ADDQ $16, SI")
	}
	p("VCVTDQ2PS Z1, Z1")
	p("VFMADD213PS Z3, Z2, Z1")
	if bf16 {
		vcvtneps2bf16(1, 1)
		p("VMOVDQU Y1, (DI)")
		p("ADDQ $32, DI")
	} else {
		p("VMOVUPS Z1, (DI)")
		p("ADDQ $64, DI")
	}
	p("DECQ DX")
	p("JNZ %s_loop", name)
	p("ADDQ $4, R8")
	p("ADDQ $4, R9")
	p("DECQ CX")
	p("JNZ %s_group", name)
	label(name + "_done")
	p("VZEROUPPER")
	p("RET")
}

// evexRR encodes a register-only 512-bit EVEX.W0 instruction the Go
// assembler does not know (the AVX512_BF16 ones) as BYTE directives:
// opcode op in map mm (2: 0F38), SIMD prefix pp (2: F3), ModRM.reg = reg,
// EVEX.vvvv = vvvv (-1 when unused), ModRM.rm = rm. The instruction in Go
// operand order follows in a comment; objdump of a test binary shows the
// decoded form.
func evexRR(op, mm, pp, reg, vvvv, rm int, comment string) {
	inv := func(b int) int { return 1 - b }
	vv, vhi := 0, 0
	if vvvv >= 0 {
		vv, vhi = vvvv&15, vvvv>>4&1
	}
	p0 := inv(reg>>3&1)<<7 | inv(rm>>4&1)<<6 | inv(rm>>3&1)<<5 | inv(reg>>4&1)<<4 | mm
	p1 := (^vv&15)<<3 | 1<<2 | pp
	p2 := 0b10<<5 | inv(vhi)<<3
	modrm := 0b11<<6 | (reg&7)<<3 | rm&7
	p("BYTE $0x62; BYTE $0x%02x; BYTE $0x%02x; BYTE $0x%02x; BYTE $0x%02x; BYTE $0x%02x // %s", p0, p1, p2, op, modrm, comment)
}

// vdpbf16ps emits VDPBF16PS Z<b>, Z<a>, Z<acc>: for each of the 16 float32
// lanes, acc += a.lo·b.lo + a.hi·b.hi over the lane's two bfloat16 halves.
func vdpbf16ps(b, a, acc int) {
	evexRR(0x52, 2, 2, acc, a, b, fmt.Sprintf("VDPBF16PS Z%d, Z%d, Z%d", b, a, acc))
}

// vcvtneps2bf16 emits VCVTNEPS2BF16 Z<src>, Y<dst>: 16 float32 to 16
// bfloat16, round to nearest even (denormals flushed to zero).
func vcvtneps2bf16(src, dst int) {
	evexRR(0x72, 2, 2, dst, -1, src, fmt.Sprintf("VCVTNEPS2BF16 Z%d, Y%d", src, dst))
}

// gemmTile emits gemm<kind>6x64AVX512(a unsafe.Pointer, lda int,
// b unsafe.Pointer, c *float32, ldc int, kp int, mr int, acc int), the
// GEMM micro-kernel: C[i][j] = Σ_{s<kp} A_i(s)·B(s)[j] for i < mr (≤ 6),
// j < 64, overwriting C (row stride ldc floats), or adding to it when acc
// is 1. Row i of A starts at a + i·lda
// bytes; step s reads its 4 bytes at offset 4s (one float32, or a pair of
// bfloat16 values for kind BF16, dotted with VDPBF16PS). B is a packed
// panel: step s is 64 dwords at b + 256s. Rows ≥ mr of the tile alias row
// 0 (computed, not stored). Accumulators Z0–Z23 (row i, vector v: Z(4i+v)),
// B in Z24–Z27, broadcasts of A in Z28–Z31.
func gemmTile(kind string) {
	name := fmt.Sprintf("gemm%s6x64AVX512", kind)
	args := "a unsafe.Pointer, lda int, b unsafe.Pointer, c *float32, ldc int, kp int, mr int, acc int"
	fmt.Fprintf(&out, "\n// func %s(%s)\n", name, args)
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-64\n", name)
	fmt.Fprintf(&decl, "\n//go:noescape\nfunc %s(%s)\n", name, args)
	ar := []string{"SI", "DI", "R8", "R9", "R10", "R11"}
	p("MOVQ a+0(FP), SI")
	p("MOVQ lda+8(FP), BX")
	p("MOVQ b+16(FP), DX")
	p("MOVQ c+24(FP), R12")
	p("MOVQ ldc+32(FP), R13")
	p("SHLQ $2, R13")
	p("MOVQ kp+40(FP), CX")
	p("SHLQ $2, CX")
	p("MOVQ mr+48(FP), R14")
	for i := 1; i < 6; i++ {
		p("MOVQ SI, %s", ar[i])
	}
	for i := 1; i < 6; i++ {
		p("CMPQ R14, $%d", i+1)
		p("JLT %s_rows", name)
		p("LEAQ (%s)(BX*1), %s", ar[i-1], ar[i])
	}
	label(name + "_rows")
	for i := 0; i < 24; i++ {
		p("VPXORD Z%d, Z%d, Z%d", i, i, i)
	}
	p("XORQ AX, AX")
	p("TESTQ CX, CX")
	p("JZ %s_store", name)
	label(name + "_loop")
	for v := 0; v < 4; v++ {
		p("VMOVUPS %d(DX), Z%d", 64*v, 24+v)
	}
	for i := 0; i < 6; i++ {
		t := 28 + i%4
		if kind == "BF16" {
			p("VPBROADCASTD (%s)(AX*1), Z%d", ar[i], t)
		} else {
			p("VBROADCASTSS (%s)(AX*1), Z%d", ar[i], t)
		}
		for v := 0; v < 4; v++ {
			if kind == "BF16" {
				vdpbf16ps(24+v, t, 4*i+v)
			} else {
				p("VFMADD231PS Z%d, Z%d, Z%d", 24+v, t, 4*i+v)
			}
		}
	}
	p("ADDQ $256, DX")
	p("ADDQ $4, AX")
	p("CMPQ AX, CX")
	p("JLT %s_loop", name)
	label(name + "_store")
	p("MOVQ acc+56(FP), BX")
	p("TESTQ BX, BX")
	p("JZ %s_set", name)
	for _, add := range []bool{true, false} {
		if !add {
			label(name + "_set")
		}
		for i := 0; i < 6; i++ {
			if i > 0 {
				p("CMPQ R14, $%d", i+1)
				p("JLT %s_done", name)
				p("ADDQ R13, R12")
			}
			for v := 0; v < 4; v++ {
				if add {
					p("VADDPS %d(R12), Z%d, Z%d", 64*v, 4*i+v, 4*i+v)
				}
				p("VMOVUPS Z%d, %d(R12)", 4*i+v, 64*v)
			}
		}
		if add {
			p("JMP %s_done", name)
		}
	}
	label(name + "_done")
	p("VZEROUPPER")
	p("RET")
}

// packPanel emits packPanelAVX512(dst *uint32, src unsafe.Pointer, ld int,
// n int, idx *int32, masks *uint16): the dword transpose that makes a GEMM
// B panel. Row r (< 64) of the source starts at src + r·ld bytes; for each
// s < n, dst[64s + r] = dword s of row r (one float32, or a pair of
// bfloat16 values), gathered 16 rows at a time (idx: the byte offsets
// r·ld of rows 0–15). Row group g (rows 16g…16g+15) gathers only the lanes
// set in masks[g]; the others are zero.
func packPanel() {
	name := "packPanelAVX512"
	args := "dst *uint32, src unsafe.Pointer, ld int, n int, idx *int32, masks *uint16"
	fmt.Fprintf(&out, "\n// func %s(%s)\n", name, args)
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-48\n", name)
	fmt.Fprintf(&decl, "\n//go:noescape\nfunc %s(%s)\n", name, args)
	p("MOVQ dst+0(FP), DI")
	p("MOVQ src+8(FP), R8")
	p("MOVQ ld+16(FP), BX")
	p("SHLQ $4, BX")
	p("LEAQ (R8)(BX*1), R9")
	p("LEAQ (R9)(BX*1), R10")
	p("LEAQ (R10)(BX*1), R11")
	p("MOVQ n+24(FP), CX")
	p("MOVQ idx+32(FP), AX")
	p("VMOVDQU32 (AX), Z31")
	p("MOVQ masks+40(FP), AX")
	for g := 0; g < 4; g++ {
		p("KMOVW %d(AX), K%d", 2*g, 4+g)
	}
	p("TESTQ CX, CX")
	p("JZ %s_done", name)
	label(name + "_loop")
	for g, r := range []string{"R8", "R9", "R10", "R11"} {
		p("KMOVW K%d, K1", 4+g)
		p("VPXORD Z%d, Z%d, Z%d", g, g, g)
		p("VPGATHERDD (%s)(Z31*1), K1, Z%d", r, g)
	}
	for g := 0; g < 4; g++ {
		p("VMOVDQU32 Z%d, %d(DI)", g, 64*g)
	}
	for _, r := range []string{"R8", "R9", "R10", "R11"} {
		p("ADDQ $4, %s", r)
	}
	p("ADDQ $256, DI")
	p("DECQ CX")
	p("JNZ %s_loop", name)
	label(name + "_done")
	p("VZEROUPPER")
	p("RET")
}

// cvtToBF16 emits cvtF32ToBF16AVX512(dst *uint16, src *float32, n int):
// n (a multiple of 16) float32 values to bfloat16, round to nearest even,
// bit-exact with FloatToBF16 (denormals kept; NaNs quieted, sign and top
// payload kept) using integer arithmetic: b + 0x7fff + (b>>16 & 1), >> 16.
func cvtToBF16() {
	name := "cvtF32ToBF16AVX512"
	args := "dst *uint16, src *float32, n int"
	fmt.Fprintf(&out, "\n// func %s(%s)\n", name, args)
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-24\n", name)
	fmt.Fprintf(&decl, "\n//go:noescape\nfunc %s(%s)\n", name, args)
	p("MOVQ dst+0(FP), DI")
	p("MOVQ src+8(FP), SI")
	p("MOVQ n+16(FP), CX")
	p("MOVL $1, AX")
	p("VPBROADCASTD AX, Z28")
	p("MOVL $0x7fff, AX")
	p("VPBROADCASTD AX, Z29")
	p("MOVL $0x7fffffff, AX")
	p("VPBROADCASTD AX, Z30")
	p("MOVL $0x7f800000, AX")
	p("VPBROADCASTD AX, Z31")
	p("MOVL $0x40, AX")
	p("VPBROADCASTD AX, Z27")
	p("SHRQ $4, CX")
	p("JZ %s_done", name)
	label(name + "_loop")
	p("VMOVDQU32 (SI), Z0")
	p("VPSRLD $16, Z0, Z1")      // b >> 16
	p("VPANDD Z28, Z1, Z2")      // lsb of the result
	p("VPADDD Z29, Z0, Z3")      // b + 0x7fff
	p("VPADDD Z2, Z3, Z3")       // + lsb
	p("VPSRLD $16, Z3, Z3")      // rounded
	p("VPANDD Z30, Z0, Z4")      // |b|
	p("VPCMPUD $6, Z31, Z4, K1") // NaN: |b| > 0x7f800000
	p("VPORD Z27, Z1, K1, Z3")   // NaN lanes: b>>16 | 0x40
	p("VPMOVDW Z3, Y3")
	p("VMOVDQU Y3, (DI)")
	p("ADDQ $64, SI")
	p("ADDQ $32, DI")
	p("DECQ CX")
	p("JNZ %s_loop", name)
	label(name + "_done")
	p("VZEROUPPER")
	p("RET")
}

// packPanelT emits packPanelTAVX512(dst *uint32, src unsafe.Pointer, ld int,
// n16 int): the panel packing of packPanel for 64 rows and n16 (a multiple
// of 16) dwords per row, by 16×16 dword transposes in registers: each row
// is read sequentially (a gather with rows kilobytes apart misses the TLB
// on every lane). Per block of 16 rows × 16 dwords: unpack dwords and
// qwords within 128-bit lanes, then two rounds of VSHUFI32X4 move the
// lanes; rows r ≥ 16 of the block index the 16-byte lanes.
func packPanelT() {
	name := "packPanelTAVX512"
	args := "dst *uint32, src unsafe.Pointer, ld int, n16 int"
	fmt.Fprintf(&out, "\n// func %s(%s)\n", name, args)
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-32\n", name)
	fmt.Fprintf(&decl, "\n//go:noescape\nfunc %s(%s)\n", name, args)
	p("MOVQ dst+0(FP), DI")
	p("MOVQ src+8(FP), SI")
	p("MOVQ ld+16(FP), BX")
	p("MOVQ n16+24(FP), CX")
	p("SHRQ $4, CX")
	p("JZ %s_done", name)
	p("LEAQ (BX)(BX*2), DX") // 3·ld
	label(name + "_chunk")
	// R14 walks the four row groups of this chunk of 16 dwords.
	p("MOVQ SI, R14")
	p("MOVQ DI, R15")
	for g := 0; g < 4; g++ {
		// Row pointers: R8 rows 0–2, R9 3–5, R10 6–8, R11 9–11, R12
		// 12–14, R13 15.
		p("MOVQ R14, R8")
		p("LEAQ (R8)(DX*1), R9")
		p("LEAQ (R9)(DX*1), R10")
		p("LEAQ (R10)(DX*1), R11")
		p("LEAQ (R11)(DX*1), R12")
		p("LEAQ (R12)(DX*1), R13")
		bases := []string{"R8", "R9", "R10", "R11", "R12", "R13"}
		for i := 0; i < 16; i++ {
			b := bases[i/3]
			switch i % 3 {
			case 0:
				p("VMOVDQU32 (%s), Z%d", b, i)
			case 1:
				p("VMOVDQU32 (%s)(BX*1), Z%d", b, i)
			case 2:
				p("VMOVDQU32 (%s)(BX*2), Z%d", b, i)
			}
		}
		// Stage 1: dword interleave of row pairs.
		for i := 0; i < 16; i += 2 {
			p("VPUNPCKLDQ Z%d, Z%d, Z%d", i+1, i, 16+i)
			p("VPUNPCKHDQ Z%d, Z%d, Z%d", i+1, i, 17+i)
		}
		// Stage 2: qword interleave; C[q][e] (q row quad, e column in
		// lane) into Z(4q+e): lane L holds column 4L+e of rows 4q…4q+3.
		for q := 0; q < 4; q++ {
			a, b := 16+4*q, 16+4*q+2 // unpacklo of pairs (4q,4q+1), (4q+2,4q+3)
			p("VPUNPCKLQDQ Z%d, Z%d, Z%d", b, a, 4*q)
			p("VPUNPCKHQDQ Z%d, Z%d, Z%d", b, a, 4*q+1)
			p("VPUNPCKLQDQ Z%d, Z%d, Z%d", b+1, a+1, 4*q+2)
			p("VPUNPCKHQDQ Z%d, Z%d, Z%d", b+1, a+1, 4*q+3)
		}
		// Stages 3 and 4: 4×4 transpose of 128-bit lanes across
		// C[0..3][e]; output column 4L+e in Z(16+4L+e).
		for e := 0; e < 4; e++ {
			c0, c1, c2, c3 := e, 4+e, 8+e, 12+e
			u0, u1, u2, u3 := 16+e, 20+e, 24+e, 28+e
			p("VSHUFI32X4 $0x88, Z%d, Z%d, Z%d", c1, c0, u0)
			p("VSHUFI32X4 $0xdd, Z%d, Z%d, Z%d", c1, c0, u1)
			p("VSHUFI32X4 $0x88, Z%d, Z%d, Z%d", c3, c2, u2)
			p("VSHUFI32X4 $0xdd, Z%d, Z%d, Z%d", c3, c2, u3)
			p("VSHUFI32X4 $0x88, Z%d, Z%d, Z%d", u2, u0, e)    // L=0
			p("VSHUFI32X4 $0xdd, Z%d, Z%d, Z%d", u2, u0, 8+e)  // L=2
			p("VSHUFI32X4 $0x88, Z%d, Z%d, Z%d", u3, u1, 4+e)  // L=1
			p("VSHUFI32X4 $0xdd, Z%d, Z%d, Z%d", u3, u1, 12+e) // L=3
		}
		// Column j = 4L+e is in Z(4L+e) = Zj: store at row j of the
		// panel, lanes 16g…16g+15.
		for j := 0; j < 16; j++ {
			p("VMOVDQU32 Z%d, %d(R15)", j, 256*j+64*g)
		}
		if g < 3 {
			p("LEAQ (R13)(BX*1), R14")
		}
	}
	p("ADDQ $64, SI")
	p("ADDQ $4096, DI")
	p("DECQ CX")
	p("JNZ %s_chunk", name)
	label(name + "_done")
	p("VZEROUPPER")
	p("RET")
}

// swiglu emits swigluAVX512(dst, gate, up *float32, n int, c *float32):
// dst[i] = gate[i]/(1+exp(-gate[i]))·up[i] for n (a multiple of 16)
// elements, exp as in expShiftSum (c: log2 e, -87, ln2 high, ln2 low, the
// Taylor coefficients 1/i!) with its argument clamped to ±100 (exp
// overflows to +Inf or underflows to 0 through VSCALEFPS).
func swiglu() {
	name := "swigluAVX512"
	args := "dst *float32, gate *float32, up *float32, n int, c *float32"
	fmt.Fprintf(&out, "\n// func %s(%s)\n", name, args)
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-40\n", name)
	fmt.Fprintf(&decl, "\n//go:noescape\nfunc %s(%s)\n", name, args)
	p("MOVQ dst+0(FP), DI")
	p("MOVQ gate+8(FP), SI")
	p("MOVQ up+16(FP), DX")
	p("MOVQ n+24(FP), CX")
	p("MOVQ c+32(FP), AX")
	p("VBROADCASTSS 0(AX), Z22")
	p("VBROADCASTSS 8(AX), Z18")
	p("VBROADCASTSS 12(AX), Z19")
	for i := 0; i <= 7; i++ {
		p("VBROADCASTSS %d(AX), Z%d", 16+4*i, 23+i)
	}
	p("MOVL $0x42c80000, AX") // 100
	p("VPBROADCASTD AX, Z20")
	p("MOVL $0xc2c80000, AX") // -100
	p("VPBROADCASTD AX, Z21")
	p("SHRQ $4, CX")
	p("JZ %s_done", name)
	label(name + "_loop")
	p("VMOVUPS (SI), Z0")
	p("VXORPS Z1, Z1, Z1")
	p("VSUBPS Z0, Z1, Z1") // t = -g
	p("VMINPS Z20, Z1, Z1")
	p("VMAXPS Z21, Z1, Z1")
	p("VMULPS Z22, Z1, Z2")
	p("VRNDSCALEPS $0, Z2, Z2")
	p("VFNMADD231PS Z2, Z18, Z1")
	p("VFNMADD231PS Z2, Z19, Z1")
	p("VMOVAPS Z30, Z3")
	for i := 6; i >= 0; i-- {
		p("VFMADD213PS Z%d, Z1, Z3", 23+i)
	}
	p("VSCALEFPS Z2, Z3, Z3") // exp(-g)
	p("VADDPS Z23, Z3, Z3")   // 1 + exp(-g) (Z23 holds 1/0! = 1)
	p("VDIVPS Z3, Z0, Z0")
	p("VMULPS (DX), Z0, Z0")
	p("VMOVUPS Z0, (DI)")
	p("ADDQ $64, SI")
	p("ADDQ $64, DX")
	p("ADDQ $64, DI")
	p("DECQ CX")
	p("JNZ %s_loop", name)
	label(name + "_done")
	p("VZEROUPPER")
	p("RET")
}

// qgemvV emits qgemvV<bits>x<nx>(out *float32, ldo int, xp unsafe.Pointer,
// xstride int, w unsafe.Pointer, s *float32, bdelta int, gstride int,
// scstep int, nsc int, rows int, idx *int32): the decode kernel for the
// repacked layout (QVParams) and a QVBatch of nx rows. Per weight row and
// super-chunk (16 lanes, one block of 32 elements each) every activation
// row b accumulates int32 products in Z(2b) with VPDPBUSD (weights unsigned,
// activations signed), then once per super-chunk: facc += cvt(iacc)·xs·S +
// xsum·B (Z(2b+1)), S and B spread to the lanes' groups with VPERMPS (idx).
// The super-chunk advances xp by xstride, s by scstep; a row advances s by
// gstride (bdelta: from s to the biases) and out by one float.
func qgemvV(bits, nx int) {
	name := fmt.Sprintf("qgemvV%dx%d", bits, nx)
	args := "out *float32, ldo int, xp unsafe.Pointer, xstride int, w unsafe.Pointer, s *float32, bdelta int, gstride int, scstep int, nsc int, rows int, idx *int32"
	fmt.Fprintf(&out, "\n// func %s(%s)\n", name, args)
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-96\n", name)
	fmt.Fprintf(&decl, "\n//go:noescape\nfunc %s(%s)\n", name, args)
	const xb = 640 // qvXBytes
	p("MOVQ out+0(FP), DI")
	p("MOVQ ldo+8(FP), R8")
	p("SHLQ $2, R8")
	p("MOVQ xstride+24(FP), R9")
	p("MOVQ w+32(FP), DX")
	p("MOVQ s+40(FP), R11")
	p("MOVQ bdelta+48(FP), R12")
	p("MOVQ scstep+64(FP), R14")
	p("MOVQ rows+80(FP), CX")
	p("MOVQ idx+88(FP), R10")
	p("VMOVDQU32 (R10), Z30")
	if bits == 4 {
		p("MOVL $0x0F0F0F0F, R10")
		p("VPBROADCASTD R10, Z31")
	}
	for b := 0; b < 2*nx; b++ {
		p("VPXORD Z%d, Z%d, Z%d", b, b, b)
	}
	p("TESTQ CX, CX")
	p("JZ %s_done", name)
	label(name + "_row")
	p("MOVQ xp+16(FP), AX")
	p("MOVQ R11, R15")
	p("MOVQ nsc+72(FP), R13")
	label(name + "_sc")
	p("VPERMPS (R15), Z30, Z19")
	p("VPERMPS (R15)(R12*1), Z30, Z20")
	if bits == 4 {
		for v := 0; v < 4; v++ {
			p("PREFETCHT0 2048(DX)")
			p("VMOVDQU32 %d(DX), Z16", 64*v)
			p("VPSRLD $4, Z16, Z18")
			p("VPANDD Z31, Z16, Z17")
			p("VPANDD Z31, Z18, Z18")
			for b := 0; b < nx; b++ {
				p("VPDPBUSD %d(AX), Z17, Z%d", b*xb+2*v*64, 2*b)
				p("VPDPBUSD %d(AX), Z18, Z%d", b*xb+(2*v+1)*64, 2*b)
			}
		}
		p("ADDQ $256, DX")
	} else {
		for v := 0; v < 8; v++ {
			w := 16 + v%2
			p("PREFETCHT0 %d(DX)", 2048+64*v)
			p("VMOVDQU32 %d(DX), Z%d", 64*v, w)
			for b := 0; b < nx; b++ {
				p("VPDPBUSD %d(AX), Z%d, Z%d", b*xb+v*64, w, 2*b)
			}
		}
		p("ADDQ $512, DX")
	}
	for b := 0; b < nx; b++ {
		t := 21 + b%2
		p("VCVTDQ2PS Z%d, Z%d", 2*b, t)
		p("VMULPS %d(AX), Z%d, Z%d", b*xb+512, t, t)
		p("VFMADD231PS Z19, Z%d, Z%d", t, 2*b+1)
		p("VFMADD231PS %d(AX), Z20, Z%d", b*xb+576, 2*b+1)
		p("VPXORD Z%d, Z%d, Z%d", 2*b, 2*b, 2*b)
	}
	p("ADDQ R9, AX")
	p("ADDQ R14, R15")
	p("DECQ R13")
	p("JNZ %s_sc", name)
	p("MOVQ DI, BX")
	for b := 0; b < nx; b++ {
		r := 2*b + 1
		hsumT(avx512, r, 21)
		p("VMOVSS X%d, (BX)", r)
		p("VPXORD Z%d, Z%d, Z%d", r, r, r)
		if b+1 < nx {
			p("ADDQ R8, BX")
		}
	}
	p("ADDQ $4, DI")
	p("ADDQ gstride+56(FP), R11")
	p("DECQ CX")
	p("JNZ %s_row", name)
	label(name + "_done")
	p("VZEROUPPER")
	p("RET")
}

// gprNum maps Go's names of the general registers to their encodings.
var gprNum = map[string]int{"AX": 0, "CX": 1, "DX": 2, "BX": 3, "SP": 4, "BP": 5, "SI": 6, "DI": 7,
	"R8": 8, "R9": 9, "R10": 10, "R11": 11, "R12": 12, "R13": 13, "R14": 14, "R15": 15}

// vdpbf16psMem emits VDPBF16PS disp(base), Z<a>, Z<acc>: acc += a·(the 64
// bytes at base+disp) pairwise, encoded with a SIB byte (no index) and a
// compressed 8-bit displacement (disp a multiple of 64 in [-8192, 8128]).
func vdpbf16psMem(disp int, base string, a, acc int) {
	if disp%64 != 0 || disp < -8192 || disp > 8128 {
		panic("vdpbf16psMem: displacement")
	}
	b := gprNum[base]
	inv := func(x int) int { return 1 - x }
	p0 := inv(acc>>3&1)<<7 | 1<<6 | inv(b>>3&1)<<5 | inv(acc>>4&1)<<4 | 2
	p1 := (^a&15)<<3 | 1<<2 | 2
	p2 := 0b10<<5 | inv(a>>4&1)<<3
	modrm := 0b01<<6 | (acc&7)<<3 | 0b100
	sib := 0b00<<6 | 0b100<<3 | b&7
	p("BYTE $0x62; BYTE $0x%02x; BYTE $0x%02x; BYTE $0x%02x; BYTE $0x52; BYTE $0x%02x; BYTE $0x%02x; BYTE $0x%02x // VDPBF16PS %d(%s), Z%d, Z%d",
		p0, p1, p2, modrm, sib, uint8(int8(disp/64)), disp, base, a, acc)
}

// gemvDP emits gemvDPx<nx>(out *float32, ldo int, x *uint16, k int,
// kk int, w unsafe.Pointer, rows int): for r < rows and b < nx,
// out[b*ldo+r] = Σ_{e<kk} x[b*k+e]·w[r*k+e] with x and w bfloat16 (bit
// patterns), products exact and sums float32 (VDPBF16PS, 32 elements per
// instruction); kk is a multiple of 64. Weight rows are k elements apart.
func gemvDP(nx int) {
	name := fmt.Sprintf("gemvDPx%d", nx)
	args := "out *float32, ldo int, x *uint16, k int, kk int, w unsafe.Pointer, rows int"
	fmt.Fprintf(&out, "\n// func %s(%s)\n", name, args)
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-56\n", name)
	fmt.Fprintf(&decl, "\n//go:noescape\nfunc %s(%s)\n", name, args)
	xr := []string{"SI", "R11", "R12", "R13"}
	p("MOVQ out+0(FP), DI")
	p("MOVQ ldo+8(FP), R8")
	p("SHLQ $2, R8")
	p("MOVQ k+24(FP), R9")
	p("SHLQ $1, R9") // bytes per row
	p("MOVQ kk+32(FP), R10")
	p("SHLQ $1, R10") // bytes per row covered
	p("MOVQ R9, R15")
	p("SUBQ R10, R15") // bytes to skip at the end of each weight row
	p("MOVQ w+40(FP), DX")
	p("MOVQ rows+48(FP), CX")
	p("TESTQ CX, CX")
	p("JZ %s_done", name)
	label(name + "_row")
	p("MOVQ x+16(FP), SI")
	for b := 1; b < nx; b++ {
		p("LEAQ (%s)(R9*1), %s", xr[b-1], xr[b])
	}
	for i := 0; i < 2*nx; i++ {
		p("VPXORD Z%d, Z%d, Z%d", i, i, i)
	}
	p("MOVQ R10, AX")
	p("TESTQ AX, AX")
	p("JZ %s_reduce", name)
	label(name + "_loop")
	if nx > 1 {
		// Software prefetch pays where the loop does more than one
		// product per weight vector; with one activation row the
		// hardware prefetchers alone stream faster (measured: +2% on
		// huge pages, +5% on 4 KiB pages; -10% for four rows without).
		p("PREFETCHT0 2048(DX)")
		p("PREFETCHT0 2112(DX)")
	}
	p("VMOVDQU32 (DX), Z16")
	p("VMOVDQU32 64(DX), Z17")
	for b := 0; b < nx; b++ {
		vdpbf16psMem(0, xr[b], 16, 2*b)
		vdpbf16psMem(64, xr[b], 17, 2*b+1)
	}
	p("ADDQ $128, DX")
	for b := 0; b < nx; b++ {
		p("ADDQ $128, %s", xr[b])
	}
	p("SUBQ $128, AX")
	p("JNZ %s_loop", name)
	label(name + "_reduce")
	p("ADDQ R15, DX")
	p("MOVQ DI, BX")
	for b := 0; b < nx; b++ {
		p("VADDPS Z%d, Z%d, Z%d", 2*b+1, 2*b, 2*b)
		hsumT(avx512, 2*b, 18)
		p("VMOVSS X%d, (BX)", 2*b)
		if b+1 < nx {
			p("ADDQ R8, BX")
		}
	}
	p("ADDQ $4, DI")
	p("DECQ CX")
	p("JNZ %s_row", name)
	label(name + "_done")
	p("VZEROUPPER")
	p("RET")
}

// attnScores emits attnScoresBF16(s *float32, lds int, q *uint16, nq int,
// k unsafe.Pointer, n16 int, d int): for each of nq query rows (bfloat16, d
// elements, d a multiple of 32, rows d apart) and each key row j < 16·n16
// (bfloat16, d elements, rows d apart), s[h*lds + j] = q_h·k_j, products
// exact and sums float32 (VDPBF16PS). Keys go 16 at a time: each key's dot
// product leaves a vector of partial sums, and four rounds of unpacks,
// lane shuffles and adds turn the 16 vectors into one vector of 16 scores
// (45 operations instead of 16 horizontal sums of 8). A block of keys
// stays in L1 while the other query rows pass over it.
func attnScores() {
	name := "attnScoresBF16"
	args := "s *float32, lds int, q *uint16, nq int, k unsafe.Pointer, n16 int, d int"
	fmt.Fprintf(&out, "\n// func %s(%s)\n", name, args)
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-56\n", name)
	fmt.Fprintf(&decl, "\n//go:noescape\nfunc %s(%s)\n", name, args)
	p("MOVQ s+0(FP), DI")
	p("MOVQ lds+8(FP), R8")
	p("SHLQ $2, R8")
	p("MOVQ k+32(FP), DX")
	p("MOVQ n16+40(FP), CX")
	p("MOVQ d+48(FP), R9")
	p("SHLQ $1, R9") // bytes per row
	p("MOVQ R9, R10")
	p("SHLQ $4, R10") // bytes per 16 keys
	p("TESTQ CX, CX")
	p("JZ %s_done", name)
	label(name + "_block")
	p("MOVQ q+16(FP), SI")
	p("MOVQ DI, R11")
	p("MOVQ nq+24(FP), R12")
	label(name + "_head")
	// Key j of the block at BX; two keys per step, reduced at once.
	p("MOVQ DX, BX")
	for pair := 0; pair < 8; pair++ {
		a, b := 0, 1 // accumulators of the pair's keys
		p("VPXORD Z%d, Z%d, Z%d", a, a, a)
		p("VPXORD Z%d, Z%d, Z%d", b, b, b)
		p("MOVQ R9, AX")
		p("MOVQ SI, R13")
		p("MOVQ BX, R14")
		p("LEAQ (BX)(R9*1), R15")
		label(fmt.Sprintf("%s_dot%d", name, pair))
		p("VMOVDQU32 (R13), Z2")
		vdpbf16psMem(0, "R14", 2, a)
		vdpbf16psMem(0, "R15", 2, b)
		p("ADDQ $64, R13")
		p("ADDQ $64, R14")
		p("ADDQ $64, R15")
		p("SUBQ $64, AX")
		p("JNZ %s_dot%d", name, pair)
		p("LEAQ (BX)(R9*2), BX")
		// Level 1: [a0+a2, b0+b2, a1+a3, b1+b3] per 128-bit lane.
		l1 := 8 + pair
		p("VUNPCKLPS Z%d, Z%d, Z3", b, a)
		p("VUNPCKHPS Z%d, Z%d, Z4", b, a)
		p("VADDPS Z4, Z3, Z%d", l1)
	}
	// Level 2: four keys per 128-bit lane (one partial sum each).
	for i := 0; i < 4; i++ {
		a, b := 8+2*i, 9+2*i
		p("VUNPCKLPD Z%d, Z%d, Z3", b, a)
		p("VUNPCKHPD Z%d, Z%d, Z4", b, a)
		p("VADDPS Z4, Z3, Z%d", 16+i)
	}
	// Levels 3 and 4: 128-bit lanes.
	for i := 0; i < 2; i++ {
		a, b := 16+2*i, 17+2*i
		p("VSHUFF32X4 $0x88, Z%d, Z%d, Z3", b, a)
		p("VSHUFF32X4 $0xdd, Z%d, Z%d, Z4", b, a)
		p("VADDPS Z4, Z3, Z%d", 20+i)
	}
	p("VSHUFF32X4 $0x88, Z21, Z20, Z3")
	p("VSHUFF32X4 $0xdd, Z21, Z20, Z4")
	p("VADDPS Z4, Z3, Z3")
	p("VMOVUPS Z3, (R11)")
	p("ADDQ R8, R11")
	p("ADDQ R9, SI")
	p("DECQ R12")
	p("JNZ %s_head", name)
	p("ADDQ $64, DI")
	p("ADDQ R10, DX")
	p("DECQ CX")
	p("JNZ %s_block", name)
	label(name + "_done")
	p("VZEROUPPER")
	p("RET")
}

// attnValues emits attnValuesBF16x<nq>d<32·dv>(acc *float32, lda int,
// p *uint32, ldp int, v unsafe.Pointer, npairs int): for nq query rows and
// keys j < 2·npairs, acc[h*lda + e] = Σ_j p_h[j]·v[j][e] for e < 32·dv, with
// p given as bfloat16 pairs (p[h*ldp + i] holds keys 2i and 2i+1) and v
// bfloat16 rows of 32·dv elements: the P·V pass of decode attention. Each
// pair of value rows is interleaved word by word (VPUNPCKL/HWD), which
// makes dword lanes of (key 2i, key 2i+1) pairs for VDPBF16PS; the lanes'
// element order is undone once at the end with two lane shuffles per 32
// elements.
func attnValues(nq, dv int) {
	name := fmt.Sprintf("attnValuesBF16x%dd%d", nq, 32*dv)
	args := "acc *float32, lda int, p *uint32, ldp int, v unsafe.Pointer, npairs int"
	fmt.Fprintf(&out, "\n// func %s(%s)\n", name, args)
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-48\n", name)
	fmt.Fprintf(&decl, "\n//go:noescape\nfunc %s(%s)\n", name, args)
	accr := func(h, i int) int { return h*2*dv + i } // i < 2·dv
	p("MOVQ p+16(FP), DX")
	p("MOVQ ldp+24(FP), R8")
	p("SHLQ $2, R8")
	p("LEAQ (DX)(R8*1), R10") // second query row's pairs
	p("MOVQ v+32(FP), SI")
	p("MOVQ npairs+40(FP), CX")
	p("MOVQ $%d, R9", 64*dv) // bytes per value row
	for i := 0; i < nq*2*dv; i++ {
		p("VPXORD Z%d, Z%d, Z%d", i, i, i)
	}
	p("TESTQ CX, CX")
	p("JZ %s_store", name)
	label(name + "_loop")
	p("VPBROADCASTD (DX), Z30")
	if nq == 2 {
		p("VPBROADCASTD (R10), Z31")
	}
	for c := 0; c < dv; c++ {
		a, b := 16+2*(c%2), 17+2*(c%2)
		lo, hi := 24+2*(c%2), 25+2*(c%2)
		p("VMOVDQU32 %d(SI), Z%d", 64*c, a)
		p("VMOVDQU32 %d(SI)(R9*1), Z%d", 64*c, b)
		p("VPUNPCKLWD Z%d, Z%d, Z%d", b, a, lo)
		p("VPUNPCKHWD Z%d, Z%d, Z%d", b, a, hi)
		for h := 0; h < nq; h++ {
			vdpbf16ps(30+h, lo, accr(h, 2*c))
			vdpbf16ps(30+h, hi, accr(h, 2*c+1))
		}
	}
	p("ADDQ $4, DX")
	p("ADDQ $4, R10")
	p("LEAQ (SI)(R9*2), SI")
	p("DECQ CX")
	p("JNZ %s_loop", name)
	label(name + "_store")
	p("MOVQ acc+0(FP), DI")
	p("MOVQ lda+8(FP), BX")
	p("SHLQ $2, BX")
	for h := 0; h < nq; h++ {
		for c := 0; c < dv; c++ {
			lo, hi := accr(h, 2*c), accr(h, 2*c+1)
			p("VSHUFF32X4 $0x44, Z%d, Z%d, Z26", hi, lo)
			p("VSHUFF32X4 $0xd8, Z26, Z26, Z26")
			p("VMOVUPS Z26, %d(DI)", 128*c)
			p("VSHUFF32X4 $0xee, Z%d, Z%d, Z27", hi, lo)
			p("VSHUFF32X4 $0xd8, Z27, Z27, Z27")
			p("VMOVUPS Z27, %d(DI)", 128*c+64)
		}
		if h+1 < nq {
			p("ADDQ BX, DI")
		}
	}
	p("VZEROUPPER")
	p("RET")
}

// rmsKernels emits sumSquaresAVX512(x *float32, n int) float64, the sum of
// x[i]² accumulated in float64 (n a multiple of 16), and
// scaleRowAVX512(dst, x, w *float32, s float32, n int): dst[i] =
// x[i]·s·w[i] (n a multiple of 16), the two passes of RMSNorm.
func rmsKernels() {
	fmt.Fprintf(&out, "\n// func sumSquaresAVX512(x *float32, n int) float64\n")
	fmt.Fprintf(&out, "TEXT ·sumSquaresAVX512(SB), NOSPLIT, $0-24\n")
	fmt.Fprintf(&decl, "\n//go:noescape\nfunc sumSquaresAVX512(x *float32, n int) float64\n")
	p("MOVQ x+0(FP), SI")
	p("MOVQ n+8(FP), CX")
	for i := 0; i < 4; i++ {
		p("VXORPD Z%d, Z%d, Z%d", i, i, i)
	}
	p("SHRQ $4, CX")
	p("JZ ssq_reduce")
	label("ssq_loop")
	p("VCVTPS2PD (SI), Z4")
	p("VCVTPS2PD 32(SI), Z5")
	p("VFMADD231PD Z4, Z4, Z0")
	p("VFMADD231PD Z5, Z5, Z1")
	p("ADDQ $64, SI")
	p("DECQ CX")
	p("JNZ ssq_loop")
	label("ssq_reduce")
	p("VADDPD Z1, Z0, Z0")
	p("VEXTRACTF64X4 $1, Z0, Y1")
	p("VADDPD Y1, Y0, Y0")
	p("VEXTRACTF128 $1, Y0, X1")
	p("VADDPD X1, X0, X0")
	p("VPERMILPD $1, X0, X1")
	p("VADDSD X1, X0, X0")
	p("VMOVSD X0, ret+16(FP)")
	p("VZEROUPPER")
	p("RET")

	fmt.Fprintf(&out, "\n// func scaleRowAVX512(dst *float32, x *float32, w *float32, s float32, n int)\n")
	fmt.Fprintf(&out, "TEXT ·scaleRowAVX512(SB), NOSPLIT, $0-40\n")
	fmt.Fprintf(&decl, "\n//go:noescape\nfunc scaleRowAVX512(dst *float32, x *float32, w *float32, s float32, n int)\n")
	p("MOVQ dst+0(FP), DI")
	p("MOVQ x+8(FP), SI")
	p("MOVQ w+16(FP), DX")
	p("VBROADCASTSS s+24(FP), Z1")
	p("MOVQ n+32(FP), CX")
	p("SHRQ $4, CX")
	p("JZ srow_done")
	label("srow_loop")
	p("VMULPS (SI), Z1, Z0")
	p("VMULPS (DX), Z0, Z0")
	p("VMOVUPS Z0, (DI)")
	p("ADDQ $64, SI")
	p("ADDQ $64, DX")
	p("ADDQ $64, DI")
	p("DECQ CX")
	p("JNZ srow_loop")
	label("srow_done")
	p("VZEROUPPER")
	p("RET")
}

// quantizeQVKernel emits quantizeQVAVX512(dst *byte, cstride int,
// x *float32, nblocks int): the activation quantization of QVBatch for one
// row: block b (32 floats at x+128b) gets scale s = max|x|/127, q =
// round-half-even(x·(127/max)) as int8 (an all-zero block: all zero), and
// Σ of its rounded values s·Σq; quad t of block b goes to dst + (b/16)·
// cstride + 64t + 4(b%16), the scale to +512, the sum to +576 (the layout
// of QVBatch.Packed, cstride = N·qvXBytes).
func quantizeQVKernel() {
	name := "quantizeQVAVX512"
	args := "dst *byte, cstride int, x *float32, nblocks int"
	fmt.Fprintf(&out, "\n// func %s(%s)\n", name, args)
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-32\n", name)
	fmt.Fprintf(&decl, "\n//go:noescape\nfunc %s(%s)\n", name, args)
	p("MOVQ dst+0(FP), DI")
	p("MOVQ cstride+8(FP), R9")
	p("MOVQ x+16(FP), SI")
	p("MOVQ nblocks+24(FP), CX")
	p("MOVL $0x7fffffff, AX")
	p("VPBROADCASTD AX, Z31") // |x| mask
	p("MOVL $0x42fe0000, AX") // 127
	p("VMOVD AX, X30")
	p("VXORPS X29, X29, X29")
	p("MOVQ DI, R8")
	p("XORQ DX, DX") // lane l
	p("TESTQ CX, CX")
	p("JZ %s_done", name)
	label(name + "_block")
	p("VMOVUPS (SI), Z0")
	p("VMOVUPS 64(SI), Z1")
	p("VANDPS Z31, Z0, Z2")
	p("VANDPS Z31, Z1, Z3")
	p("VMAXPS Z3, Z2, Z2")
	p("VEXTRACTF64X4 $1, Z2, Y3")
	p("VMAXPS Y3, Y2, Y2")
	p("VEXTRACTF128 $1, Y2, X3")
	p("VMAXPS X3, X2, X2")
	p("VPERMILPS $0x4e, X2, X3")
	p("VMAXPS X3, X2, X2")
	p("VPERMILPS $0xb1, X2, X3")
	p("VMAXPS X3, X2, X2")  // X2[0] = max|x|
	p("VDIVSS X30, X2, X8") // s = max/127
	p("VDIVSS X2, X30, X9") // inv = 127/max
	p("VUCOMISS X29, X2")
	p("JNE %s_nz", name)
	p("VXORPS X9, X9, X9") // all-zero block: q = 0
	label(name + "_nz")
	p("VBROADCASTSS X9, Z9")
	p("VMULPS Z9, Z0, Z0")
	p("VMULPS Z9, Z1, Z1")
	p("VCVTPS2DQ Z0, Z0")
	p("VCVTPS2DQ Z1, Z1")
	p("VPADDD Z1, Z0, Z4")
	p("VEXTRACTI64X4 $1, Z4, Y5")
	p("VPADDD Y5, Y4, Y4")
	p("VEXTRACTI128 $1, Y4, X5")
	p("VPADDD X5, X4, X4")
	p("VPSHUFD $0x4e, X4, X5")
	p("VPADDD X5, X4, X4")
	p("VPSHUFD $0xb1, X4, X5")
	p("VPADDD X5, X4, X4")
	p("VCVTDQ2PS X4, X4")
	p("VMULSS X8, X4, X4") // s·Σq
	p("VPMOVSDB Z0, X6")
	p("VPMOVSDB Z1, X7")
	p("VMOVD X6, (R8)")
	for t := 1; t < 4; t++ {
		p("VPEXTRD $%d, X6, %d(R8)", t, 64*t)
	}
	p("VMOVD X7, 256(R8)")
	for t := 1; t < 4; t++ {
		p("VPEXTRD $%d, X7, %d(R8)", t, 256+64*t)
	}
	p("VMOVSS X8, 512(R8)")
	p("VMOVSS X4, 576(R8)")
	p("ADDQ $128, SI")
	p("ADDQ $4, R8")
	p("INCQ DX")
	p("CMPQ DX, $16")
	p("JNE %s_next", name)
	p("XORQ DX, DX")
	p("ADDQ R9, DI")
	p("MOVQ DI, R8")
	label(name + "_next")
	p("DECQ CX")
	p("JNZ %s_block", name)
	label(name + "_done")
	p("VZEROUPPER")
	p("RET")
}

// softmaxKernels emits
//
//	maxF32AVX512(x *float32, n int, negInf *float32) float32
//	expShiftSumAVX512(x *float32, n int, shift float32, c *float32) float32
//
// expShiftSum replaces x[i] by exp(x[i]-shift), or 0 where x[i]-shift < -87
// (which covers -Inf), and returns the sum. exp(t) = 2^n·exp(r) with n =
// round(t·log2 e) applied by VSCALEFPS, r = t - n·ln2 (Cody–Waite: ln2 in a
// high and a low part) and exp(r), |r| ≤ ln2/2, from its degree-7 Taylor
// polynomial: within 2 ulp. c holds log2 e, -87, ln2 high, ln2 low, then
// the eight coefficients 1/i!. The tail (n%16) uses masked loads and stores.
func softmaxKernels() {
	fmt.Fprintf(&out, "\n// func maxF32AVX512(x *float32, n int, negInf *float32) float32\n")
	fmt.Fprintf(&out, "TEXT ·maxF32AVX512(SB), NOSPLIT, $0-28\n")
	fmt.Fprintf(&decl, "\n//go:noescape\nfunc maxF32AVX512(x *float32, n int, negInf *float32) float32\n")
	p("MOVQ x+0(FP), SI")
	p("MOVQ n+8(FP), CX")
	p("MOVQ negInf+16(FP), AX")
	p("VBROADCASTSS (AX), Z0")
	p("VMOVAPS Z0, Z1")
	label("max_loop")
	p("CMPQ CX, $32")
	p("JLT max_one")
	p("VMAXPS (SI), Z0, Z0")
	p("VMAXPS 64(SI), Z1, Z1")
	p("ADDQ $128, SI")
	p("SUBQ $32, CX")
	p("JMP max_loop")
	label("max_one")
	p("CMPQ CX, $16")
	p("JLT max_tail")
	p("VMAXPS (SI), Z0, Z0")
	p("ADDQ $64, SI")
	p("SUBQ $16, CX")
	label("max_tail")
	p("TESTQ CX, CX")
	p("JZ max_reduce")
	p("MOVL $1, AX")
	p("SHLL CX, AX")
	p("DECL AX")
	p("KMOVW AX, K1")
	p("VMAXPS (SI), Z1, K1, Z1")
	label("max_reduce")
	p("VMAXPS Z1, Z0, Z0")
	p("VEXTRACTF64X4 $1, Z0, Y1")
	p("VMAXPS Y1, Y0, Y0")
	p("VEXTRACTF128 $1, Y0, X1")
	p("VMAXPS X1, X0, X0")
	p("VPERMILPS $0x4e, X0, X1")
	p("VMAXPS X1, X0, X0")
	p("VPERMILPS $0xb1, X0, X1")
	p("VMAXPS X1, X0, X0")
	p("VMOVSS X0, ret+24(FP)")
	p("VZEROUPPER")
	p("RET")

	fmt.Fprintf(&out, "\n// func expShiftSumAVX512(x *float32, n int, shift float32, c *float32) float32\n")
	fmt.Fprintf(&out, "TEXT ·expShiftSumAVX512(SB), NOSPLIT, $0-36\n")
	fmt.Fprintf(&decl, "\n//go:noescape\nfunc expShiftSumAVX512(x *float32, n int, shift float32, c *float32) float32\n")
	p("MOVQ x+0(FP), SI")
	p("MOVQ n+8(FP), CX")
	p("VBROADCASTSS shift+16(FP), Z20")
	p("MOVQ c+24(FP), AX")
	p("VBROADCASTSS 0(AX), Z22")
	p("VBROADCASTSS 4(AX), Z21")
	p("VBROADCASTSS 8(AX), Z18")
	p("VBROADCASTSS 12(AX), Z19")
	for i := 0; i <= 7; i++ {
		p("VBROADCASTSS %d(AX), Z%d", 16+4*i, 23+i)
	}
	p("VPXORD Z10, Z10, Z10")
	p("MOVL $0xffff, AX")
	p("KMOVW AX, K1")
	label("exp_loop")
	p("CMPQ CX, $16")
	p("JGE exp_body")
	p("TESTQ CX, CX")
	p("JZ exp_reduce")
	p("MOVL $1, AX")
	p("SHLL CX, AX")
	p("DECL AX")
	p("KMOVW AX, K1")
	p("MOVQ $16, CX")
	label("exp_body")
	p("VMOVUPS.Z (SI), K1, Z1")
	p("VSUBPS Z20, Z1, Z1")
	p("VCMPPS $13, Z21, Z1, K2")
	p("KANDW K1, K2, K2")
	p("VMAXPS Z21, Z1, Z1")
	p("VMULPS Z22, Z1, Z2")
	p("VRNDSCALEPS $0, Z2, Z2")
	p("VFNMADD231PS Z2, Z18, Z1")
	p("VFNMADD231PS Z2, Z19, Z1")
	p("VMOVAPS Z30, Z3")
	for i := 6; i >= 0; i-- {
		p("VFMADD213PS Z%d, Z1, Z3", 23+i)
	}
	p("VSCALEFPS Z2, Z3, Z3")
	p("VMOVAPS.Z Z3, K2, Z3")
	p("VMOVUPS Z3, K1, (SI)")
	p("VADDPS Z3, Z10, Z10")
	p("ADDQ $64, SI")
	p("SUBQ $16, CX")
	p("JMP exp_loop")
	label("exp_reduce")
	hsumT(avx512, 10, 11)
	p("VMOVSS X10, ret+32(FP)")
	p("VZEROUPPER")
	p("RET")
}

// streamSum emits streamSumAVX512(p *uint64, n int) uint64: the wrapping
// sum of n words (n a multiple of 32), four 64-byte loads per iteration
// plus prefetch, the read-bandwidth probe of the benchmarks.
func streamSum() {
	fmt.Fprintf(&out, "\n// func streamSumAVX512(p *uint64, n int) uint64\n")
	fmt.Fprintf(&out, "TEXT ·streamSumAVX512(SB), NOSPLIT, $0-24\n")
	fmt.Fprintf(&decl, "\n//go:noescape\nfunc streamSumAVX512(p *uint64, n int) uint64\n")
	p("MOVQ p+0(FP), SI")
	p("MOVQ n+8(FP), CX")
	for i := 0; i < 4; i++ {
		p("VPXORQ Z%d, Z%d, Z%d", i, i, i)
	}
	p("TESTQ CX, CX")
	p("JZ ss_done")
	label("ss_loop")
	p("PREFETCHT0 2048(SI)")
	p("PREFETCHT0 2112(SI)")
	p("PREFETCHT0 2176(SI)")
	p("PREFETCHT0 2240(SI)")
	for i := 0; i < 4; i++ {
		p("VPADDQ %d(SI), Z%d, Z%d", 64*i, i, i)
	}
	p("ADDQ $256, SI")
	p("SUBQ $32, CX")
	p("JNZ ss_loop")
	label("ss_done")
	p("VPADDQ Z1, Z0, Z0")
	p("VPADDQ Z3, Z2, Z2")
	p("VPADDQ Z2, Z0, Z0")
	p("VEXTRACTI64X4 $1, Z0, Y1")
	p("VPADDQ Y1, Y0, Y0")
	p("VEXTRACTI128 $1, Y0, X1")
	p("VPADDQ X1, X0, X0")
	p("VPSHUFD $0x4e, X0, X1")
	p("VPADDQ X1, X0, X0")
	p("VMOVQ X0, ret+16(FP)")
	p("VZEROUPPER")
	p("RET")
}

// qgemvAVX2 emits qgemv<bits>x<nx>AVX2(out *float32, ldo int, xp
// unsafe.Pointer, xstride int, w unsafe.Pointer, wstride int, s *float32,
// bdelta int, gstride int, gpc int, nchunks int, rows int, idx *int32), the
// GemvQ kernel for CPUs without AVX-512 VNNI: the integer dot products of up
// to 2 packed activation rows (QBatch) with rows rows of an affine-quantized
// matrix in MLX's layout, 128 elements per chunk; per lane (packed word)
// acc += cvt(Σ q·xq)·(scale·xs) and bacc += bias·xsum. The
// integer dot uses VPMADDUBSW (u8·s8 pairs → s16) and VPMADDWD with ones
// (→ s32 per word). 4-bit pair sums stay below 2·15·127; 8-bit weights are
// shifted to q' = q-128 and multiplied as |q'|·(x·sign q') so pair sums stay
// below 2·128·127 (no saturation), then Σq·x = Σq'·x + 128·Σx is restored
// exactly in int32, so both paths compute the same integers.
func qgemvAVX2(bits, nx int) {
	name := fmt.Sprintf("qgemv%dx%dAVX2", bits, nx)
	args := "out *float32, ldo int, xp unsafe.Pointer, xstride int, w unsafe.Pointer, wstride int, s *float32, bdelta int, gstride int, gpc int, nchunks int, rows int, idx *int32"
	fmt.Fprintf(&out, "\n// func %s(%s)\n", name, args)
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-104\n", name)
	fmt.Fprintf(&decl, "\n//go:noescape\nfunc %s(%s)\n", name, args)
	rcs, halves, wadv := 256, 2, 64
	if bits == 8 {
		rcs, halves, wadv = 384, 4, 128
	}
	xsOff, xsumOff := 128, 192
	if bits == 8 {
		xsumOff = 256
	}
	p("MOVQ out+0(FP), DI")
	p("MOVQ w+32(FP), DX")
	p("MOVQ s+48(FP), R11")
	p("MOVQ bdelta+56(FP), R12")
	p("MOVQ rows+88(FP), CX")
	p("MOVQ xstride+24(FP), R9")
	p("MOVQ gpc+72(FP), R14")
	p("MOVQ idx+96(FP), SI")
	p("MOVL $0x00010001, AX")
	p("VMOVD AX, X14")
	p("VPBROADCASTD X14, Y14")
	if bits == 4 {
		p("MOVL $0x0F0F0F0F, AX")
	} else {
		p("MOVL $0x80808080, AX")
	}
	p("VMOVD AX, X15")
	p("VPBROADCASTD X15, Y15")
	if bits == 8 {
		p("MOVL $0x01010101, AX")
		p("VMOVD AX, X12")
		p("VPBROADCASTD X12, Y12")
	}
	p("TESTQ CX, CX")
	p("JZ %s_done", name)
	label(name + "_row")
	for b := 0; b < 2*nx; b++ {
		p("VXORPS Y%d, Y%d, Y%d", 8+b, 8+b, 8+b)
	}
	p("MOVQ xp+16(FP), AX")
	p("MOVQ DX, BX")
	p("MOVQ R11, R15")
	p("MOVQ nchunks+80(FP), R13")
	label(name + "_chunk")
	p("PREFETCHT0 2048(BX)")
	if bits == 8 {
		p("PREFETCHT0 2112(BX)")
	}
	for h := 0; h < halves; h++ {
		p("VMOVDQU %d(BX), Y0", 32*h)
		if bits == 4 {
			p("VPSRLW $4, Y0, Y1")
			p("VPAND Y15, Y0, Y0")
			p("VPAND Y15, Y1, Y1")
		} else {
			p("VPXOR Y15, Y0, Y0")
			p("VPABSB Y0, Y1")
		}
		p("VMOVDQU %d(SI), Y13", 32*h)
		p("VPERMPS (R15), Y13, Y4")
		p("VPERMPS (R15)(R12*1), Y13, Y5")
		for b := 0; b < nx; b++ {
			o := b * rcs
			if bits == 4 {
				p("VPMADDUBSW %d(AX), Y0, Y2", o+32*h)
				p("VPMADDUBSW %d(AX), Y1, Y3", o+64+32*h)
				p("VPADDW Y3, Y2, Y2")
			} else {
				p("VMOVDQU %d(AX), Y3", o+32*h)
				p("VPSIGNB Y0, Y3, Y2")
				p("VPMADDUBSW Y2, Y1, Y2")
				p("VPMADDWD Y14, Y2, Y2")
				p("VPMADDUBSW Y3, Y12, Y3")
				p("VPMADDWD Y14, Y3, Y3")
				p("VPSLLD $7, Y3, Y3")
				p("VPADDD Y3, Y2, Y2")
			}
			if bits == 4 {
				p("VPMADDWD Y14, Y2, Y2")
			}
			p("VCVTDQ2PS Y2, Y2")
			p("VMULPS %d(AX), Y4, Y3", o+xsOff+32*h)
			p("VFMADD231PS Y2, Y3, Y%d", 8+2*b)
			p("VFMADD231PS %d(AX), Y5, Y%d", o+xsumOff+32*h, 9+2*b)
		}
	}
	p("ADDQ $%d, BX", wadv)
	p("ADDQ R9, AX")
	p("ADDQ R14, R15")
	p("DECQ R13")
	p("JNZ %s_chunk", name)
	p("MOVQ DI, R8")
	p("MOVQ ldo+8(FP), R10")
	p("SHLQ $2, R10")
	for b := 0; b < nx; b++ {
		r := 8 + 2*b
		p("VADDPS Y%d, Y%d, Y%d", r+1, r, r)
		hsumT(avx2, r, 7)
		p("VMOVSS X%d, (R8)", r)
		if b+1 < nx {
			p("ADDQ R10, R8")
		}
	}
	p("ADDQ $4, DI")
	p("ADDQ wstride+40(FP), DX")
	p("ADDQ gstride+64(FP), R11")
	p("DECQ CX")
	p("JNZ %s_row", name)
	label(name + "_done")
	p("VZEROUPPER")
	p("RET")
}

func main() {
	out.WriteString("// Code generated by gen_asm.go; DO NOT EDIT.\n\n//go:build amd64 && !purego\n\n#include \"textflag.h\"\n")
	for _, s := range []isa{avx512, avx2} {
		for _, kind := range []string{"F32", "F16", "BF16"} {
			for nx := 1; nx <= 4; nx++ {
				gemv(s, kind, nx)
			}
		}
	}
	sgemm()
	streamSum()
	softmaxKernels()
	for _, bf16 := range []bool{false, true} {
		dequant(4, bf16)
		dequant(8, bf16)
	}
	gemmTile("F32")
	gemmTile("BF16")
	for nx := 1; nx <= 4; nx++ {
		gemvDP(nx)
	}
	attnScores()
	rmsKernels()
	quantizeQVKernel()
	for _, dv := range []int{2, 4} {
		attnValues(1, dv)
		attnValues(2, dv)
	}
	packPanel()
	packPanelT()
	cvtToBF16()
	swiglu()
	for _, s := range []isa{avx512, avx2} {
		cvt(s, "F16")
		cvt(s, "BF16")
	}
	for _, kind := range []string{"F32", "F16", "BF16"} {
		for np := 1; np <= 4; np++ {
			for _, cw := range []int{1, 4} {
				axpy(kind, np, cw)
			}
		}
	}
	for _, bits := range []int{4, 8} {
		for nx := 1; nx <= 2; nx++ {
			qgemvAVX2(bits, nx)
		}
		for nx := 1; nx <= 8; nx++ {
			qgemvV(bits, nx)
		}
	}
	src := strings.ReplaceAll(out.String(), "\t\n", "\n")
	if err := os.WriteFile("kernels_amd64.s", []byte(src), 0o644); err != nil {
		panic(err)
	}
	hdr := "// Code generated by gen_asm.go; DO NOT EDIT.\n\n//go:build amd64 && !purego\n\npackage kernel\n\nimport \"unsafe\"\n"
	if err := os.WriteFile("kernels_decl_amd64.go", []byte(hdr+decl.String()), 0o644); err != nil {
		panic(err)
	}
}
