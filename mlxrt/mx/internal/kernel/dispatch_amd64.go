//go:build amd64 && !purego

package kernel

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

var (
	hasAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX // F16C ships with every AVX2 CPU
	hasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL
	hasVNNI   = hasAVX512 && cpu.X86.HasAVX512VNNI
)

// Features describes the instruction sets the kernels use.
func Features() string {
	switch {
	case hasVNNI:
		return "amd64 AVX-512 VNNI"
	case hasAVX512:
		return "amd64 AVX-512"
	case hasAVX2:
		return "amd64 AVX2 FMA F16C"
	}
	return "amd64 portable Go"
}

type gemvFn func(out *float32, ldo int, x *float32, k int, kk int, w unsafe.Pointer, rows int)

// gemvTable[kind][nx-1] for the widest available ISA; nil without AVX2.
var gemvTable [3][4]gemvFn

// gemvLanes is the vector width of gemvTable's kernels.
var gemvLanes int

func init() {
	switch {
	case hasAVX512:
		gemvLanes = 16
		gemvTable = [3][4]gemvFn{
			WF32:  {gemvF32x1AVX512, gemvF32x2AVX512, gemvF32x3AVX512, gemvF32x4AVX512},
			WF16:  {gemvF16x1AVX512, gemvF16x2AVX512, gemvF16x3AVX512, gemvF16x4AVX512},
			WBF16: {gemvBF16x1AVX512, gemvBF16x2AVX512, gemvBF16x3AVX512, gemvBF16x4AVX512},
		}
	case hasAVX2:
		gemvLanes = 8
		gemvTable = [3][4]gemvFn{
			WF32:  {gemvF32x1AVX2, gemvF32x2AVX2, gemvF32x3AVX2, gemvF32x4AVX2},
			WF16:  {gemvF16x1AVX2, gemvF16x2AVX2, gemvF16x3AVX2, gemvF16x4AVX2},
			WBF16: {gemvBF16x1AVX2, gemvBF16x2AVX2, gemvBF16x3AVX2, gemvBF16x4AVX2},
		}
	}
}

// gemvRowBlock is how many weight rows one kernel call covers when more
// than 4 activation rows need several passes: the block (≤ 96 KiB for
// k = 3072 bf16) stays in L2 between passes.
const gemvRowBlock = 16

func gemv(kind WKind, out []float32, ldo int, x []float32, nx, k int, w32 []float32, w16 []uint16, rows int) {
	if gemvLanes == 0 || k < gemvLanes {
		gemvGo(kind, out, ldo, x, nx, k, w32, w16, rows)
		return
	}
	kk := k - k%gemvLanes
	var wp unsafe.Pointer
	esize := 2
	if kind == WF32 {
		wp, esize = unsafe.Pointer(&w32[0]), 4
	} else {
		wp = unsafe.Pointer(&w16[0])
	}
	block := rows
	if nx > 4 {
		block = gemvRowBlock
	}
	for r0 := 0; r0 < rows; r0 += block {
		nr := min(block, rows-r0)
		for b0 := 0; b0 < nx; b0 += 4 {
			nb := min(4, nx-b0)
			gemvTable[kind][nb-1](&out[b0*ldo+r0], ldo, &x[b0*k], k, kk, unsafe.Add(wp, r0*k*esize), nr)
		}
	}
	if kk < k {
		gemvTail(kind, out, ldo, x, nx, k, kk, w32, w16, rows)
	}
}

// gemvTail adds the products of elements [kk, k) that the vector kernels
// leave out.
func gemvTail(kind WKind, out []float32, ldo int, x []float32, nx, k, kk int, w32 []float32, w16 []uint16, rows int) {
	for r := 0; r < rows; r++ {
		for b := 0; b < nx; b++ {
			xb := x[b*k+kk : (b+1)*k]
			var s float32
			switch kind {
			case WF32:
				s = dotF32Go(xb, w32[r*k+kk:(r+1)*k])
			case WF16:
				s = dotF16Go(xb, w16[r*k+kk:(r+1)*k])
			default:
				s = dotBF16Go(xb, w16[r*k+kk:(r+1)*k])
			}
			out[b*ldo+r] += s
		}
	}
}

func f16ToF32(dst []float32, src []uint16)  { f16ToF32Go(dst, src) }
func bf16ToF32(dst []float32, src []uint16) { bf16ToF32Go(dst, src) }

func gemvQ(p *QParams, out []float32, ldo int, xs []*QX, rows int) { gemvQGo(p, out, ldo, xs, rows) }

func sgemmNT(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	sgemmNTGo(m, n, k, a, lda, b, ldb, c, ldc)
}

func axpyRows(kind WKind, acc []float32, d int, p []float32, ldp, np int, w32 []float32, w16 []uint16, rows int) {
	axpyRowsGo(kind, acc, d, p, ldp, np, w32, w16, rows)
}
