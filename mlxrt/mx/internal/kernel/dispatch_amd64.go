//go:build amd64 && !purego

package kernel

import (
	"math"
	"unsafe"

	"golang.org/x/sys/cpu"
)

var (
	hasAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX // F16C ships with every AVX2 CPU
	hasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL
	hasVNNI   = hasAVX512 && cpu.X86.HasAVX512VNNI
	hasBF16   = hasAVX512 && cpu.X86.HasAVX512BF16
)

// useBF16 selects the VDPBF16PS kernels; tests clear it to run the
// fallbacks.
var useBF16 = hasBF16

// HasBF16 reports whether GemmBF16NT and DequantRowsBF16 run on AVX512_BF16
// instructions (two bfloat16 products per float32 lane and step). Without
// them a bfloat16 GEMM is no faster than the float32 one.
func HasBF16() bool { return useBF16 }

// Features describes the instruction sets the kernels use.
func Features() string {
	switch {
	case hasVNNI && hasBF16:
		return "amd64 AVX-512 VNNI BF16"
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

func f16ToF32(dst []float32, src []uint16) {
	n := convertVec(dst, src, cvtF16AVX512, cvtF16AVX2)
	f16ToF32Go(dst[n:], src[n:])
}

func bf16ToF32(dst []float32, src []uint16) {
	n := convertVec(dst, src, cvtBF16AVX512, cvtBF16AVX2)
	bf16ToF32Go(dst[n:], src[n:])
}

// convertVec converts the longest prefix the vector kernels handle and
// returns its length.
func convertVec(dst []float32, src []uint16, k512, k2 func(*float32, *uint16, int)) int {
	switch {
	case hasAVX512 && len(dst) >= 32:
		n := len(dst) - len(dst)%32
		k512(&dst[0], &src[0], n)
		return n
	case hasAVX2 && len(dst) >= 16:
		n := len(dst) - len(dst)%16
		k2(&dst[0], &src[0], n)
		return n
	}
	return 0
}

type qgemvFn func(out *float32, ldo int, xp unsafe.Pointer, xstride int, w unsafe.Pointer, wstride int, s *float32, bdelta int, gstride int, gpc int, nchunks int, rows int, idx *int32)

// qgemvTableAVX2 serves GemvQ on CPUs without AVX-512 VNNI (which run
// GemvQV instead), two activation rows at a time.
var qgemvTableAVX2 = [2][2]qgemvFn{
	{qgemv4x1AVX2, qgemv4x2AVX2},
	{qgemv8x1AVX2, qgemv8x2AVX2},
}

// hasQuantAsm reports whether GemvQ has an assembly kernel (and so whether
// QBatch packs its rows).
var hasQuantAsm = hasAVX2

// useVNNI selects the VNNI kernels of GemvQV; tests clear it to run the
// portable path.
var useVNNI = hasVNNI

// dequant4Consts are the lane → word indices and shifts of dequant4AVX512.
var dequant4Consts = [32]int32{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28}

// dequantRows writes rows [r0, r1) of p as float32 rows of dst.
func dequantRows(p *QParams, r0, r1 int, dst []float32) {
	if !hasAVX512 || p.GS%16 != 0 {
		for r := r0; r < r1; r++ {
			DequantRow(p, r, dst[(r-r0)*p.K:])
		}
		return
	}
	wpr, g := p.WordsPerRow(), p.Groups()
	n := (r1 - r0) * g
	if n == 0 {
		return
	}
	_ = dst[(r1-r0)*p.K-1]
	if p.Bits == 4 {
		dequant4AVX512(&dst[0], &p.W[r0*wpr], &p.S[r0*g], &p.B[r0*g], n, p.GS, &dequant4Consts[0])
	} else {
		dequant8AVX512(&dst[0], &p.W[r0*wpr], &p.S[r0*g], &p.B[r0*g], n, p.GS, &dequant4Consts[0])
	}
}

// laneGroupTable[bits/8][log2(gs/32)] holds the VPERMPS index vectors
// mapping each lane (packed word) of a 128-element chunk to its scale group
// within the chunk: 16 entries for 4 bits, 2×16 (two vectors) for 8 bits.
var laneGroupTable [2][3][32]int32

func init() {
	for bi, bits := range []int{4, 8} {
		for gi, gs := range []int{32, 64, 128} {
			epw := 32 / bits
			for l := 0; l < 32; l++ {
				laneGroupTable[bi][gi][l] = int32(l * epw / gs)
			}
		}
	}
}

func laneGroups(bits, gs int) *[32]int32 {
	bi, gi := 0, 0
	if bits == 8 {
		bi = 1
	}
	switch gs {
	case 64:
		gi = 1
	case 128:
		gi = 2
	}
	return &laneGroupTable[bi][gi]
}

func gemvQ(p *QParams, out []float32, ldo int, x *QBatch, rows int) {
	nch := p.K / ChunkElems
	if x.packed == nil || nch == 0 || p.GS > ChunkElems || !hasAVX2 {
		gemvQGo(p, out, ldo, x, rows)
		return
	}
	nx := len(x.Rows)
	bi := 0
	if p.Bits == 8 {
		bi = 1
	}
	const group = 2
	idx := laneGroups(p.Bits, p.GS)
	wpr, g := p.WordsPerRow(), p.Groups()
	bdelta := int(uintptr(unsafe.Pointer(&p.B[0])) - uintptr(unsafe.Pointer(&p.S[0])))
	gpc := ChunkElems / p.GS * 4
	block := rows
	if nx > group {
		block = gemvRowBlock
	}
	for r0 := 0; r0 < rows; r0 += block {
		nr := min(block, rows-r0)
		for b0 := 0; b0 < nx; b0 += group {
			nb := min(group, nx-b0)
			qgemvTableAVX2[bi][nb-1](&out[b0*ldo+r0], ldo, unsafe.Pointer(&x.packed[b0*x.rcs]), nx*x.rcs,
				unsafe.Pointer(&p.W[r0*wpr]), wpr*4, &p.S[r0*g], bdelta, g*4, gpc, nch, nr, &idx[0])
		}
	}
	if done := nch * ChunkElems; done < p.K {
		w0 := done * p.Bits / 32
		for r := 0; r < rows; r++ {
			for b, xr := range x.Rows {
				out[b*ldo+r] += dotQRowGo(p, xr, r, w0, wpr)
			}
		}
	}
}

type qgemvVFn func(out *float32, ldo int, xp unsafe.Pointer, xstride int, w unsafe.Pointer, s *float32, bdelta int, gstride int, scstep int, nsc int, rows int, idx *int32)

var qgemvVTable = [2][8]qgemvVFn{
	{qgemvV4x1, qgemvV4x2, qgemvV4x3, qgemvV4x4, qgemvV4x5, qgemvV4x6, qgemvV4x7, qgemvV4x8},
	{qgemvV8x1, qgemvV8x2, qgemvV8x3, qgemvV8x4, qgemvV8x5, qgemvV8x6, qgemvV8x7, qgemvV8x8},
}

// HasQV reports whether GemvQV runs on AVX-512 VNNI kernels; without them
// the repacked layout brings nothing and callers keep GemvQ.
func HasQV() bool { return useVNNI }

func quantizeQV(b *QVBatch, x []float32, i0, i1 int) {
	if !hasAVX512 {
		quantizeQVGo(b, x, i0, i1)
		return
	}
	for i := i0; i < i1; i++ {
		if nb := b.K / XBlock; nb > 0 {
			quantizeQVAVX512(&b.Packed[i*qvXBytes], b.N*qvXBytes, &x[i*b.K], nb)
		}
	}
}

// qvRowBlock is the number of weight rows (≤ 16 KiB packed for k = 1024)
// that stay in L1 while several passes of eight activation rows go over
// them.
const qvRowBlock = 16

func gemvQV(q *QVParams, p *QParams, out []float32, ldo int, x *QVBatch, rows int) {
	if !useVNNI {
		gemvQVGo(p, out, ldo, x, rows)
		return
	}
	bi := 0
	if q.Bits == 8 {
		bi = 1
	}
	nx, nsc := x.N, q.KP/SuperElems
	wpr, g := q.WordsPerRow(), q.Groups()
	bdelta := int(uintptr(unsafe.Pointer(&q.B[0])) - uintptr(unsafe.Pointer(&q.S[0])))
	idx := laneGroupIndex(q.GS)
	block := rows
	if nx > 8 {
		block = qvRowBlock
	}
	for r0 := 0; r0 < rows; r0 += block {
		nr := min(block, rows-r0)
		for b0 := 0; b0 < nx; b0 += 8 {
			nb := min(8, nx-b0)
			qgemvVTable[bi][nb-1](&out[b0*ldo+r0], ldo, unsafe.Pointer(&x.Packed[b0*qvXBytes]), nx*qvXBytes,
				unsafe.Pointer(&q.W[r0*wpr]), &q.S[r0*g], bdelta, g*4, SuperElems/q.GS*4, nsc, nr, &idx[0])
		}
	}
}

// sgemmRowBlock is the number of A rows (k ≤ 1024 floats each, ≤ 256 KiB)
// kept in L2 while a 6-row strip of B passes over them (sgemmNTDot).
const sgemmRowBlock = 64

// The packed GEMM computes tiles of tileM rows of A by tileN columns (one
// packed panel of B) in registers.
const (
	tileM = 6
	tileN = 64
)

// usePackT selects the transposing panel packer for full panels; tests
// clear it to check the gather one.
var usePackT = true

type tileFn func(a unsafe.Pointer, lda int, b unsafe.Pointer, c *float32, ldc int, kp int, mr int, acc int)

func sgemmNT(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if !hasAVX512 || m < tileM || n < 16 || k == 0 || !packable(ldb*4) {
		sgemmNTDot(m, n, k, a, lda, b, ldb, c, ldc)
		return
	}
	pb := getPanel(k * tileN)
	panel := *pb
	for j0 := 0; j0 < n; j0 += tileN {
		nr := min(tileN, n-j0)
		packB(panel, unsafe.Pointer(&b[j0*ldb]), ldb*4, k, nr)
		gemmTiles(gemmF326x64AVX512, m, unsafe.Pointer(&a[0]), lda*4, panel, k, c[j0:], ldc, nr)
	}
	panelPool.Put(pb)
}

func gemmBF16NT(m, n, k int, a []uint16, lda int, b []uint16, ldb int, c []float32, ldc int) {
	kp := k / 2
	if !useBF16 || kp == 0 || !packable(ldb*2) {
		gemmBF16ViaF32(m, n, k, a, lda, b, ldb, c, ldc)
		return
	}
	pb := getPanel(kp * tileN)
	panel := *pb
	for j0 := 0; j0 < n; j0 += tileN {
		nr := min(tileN, n-j0)
		packB(panel, unsafe.Pointer(&b[j0*ldb]), ldb*2, kp, nr)
		gemmTiles(gemmBF166x64AVX512, m, unsafe.Pointer(&a[0]), lda*2, panel, kp, c[j0:], ldc, nr)
	}
	panelPool.Put(pb)
	if k%2 == 1 {
		for i := 0; i < m; i++ {
			x := bf16(a[i*lda+k-1])
			for j := 0; j < n; j++ {
				c[i*ldc+j] += x * bf16(b[j*ldb+k-1])
			}
		}
	}
}

var gemvDPTable = [4]gemvFnDP{gemvDPx1, gemvDPx2, gemvDPx3, gemvDPx4}

type gemvFnDP func(out *float32, ldo int, x *uint16, k int, kk int, w unsafe.Pointer, rows int)

func gemvBF16(out []float32, ldo int, x []uint16, nx, k int, w []uint16, rows int) {
	kk := k - k%64
	if !useBF16 || kk == 0 {
		gemvBF16Go(out, ldo, x, nx, k, w, rows)
		return
	}
	block := rows
	if nx > 4 {
		block = gemvRowBlock
	}
	for r0 := 0; r0 < rows; r0 += block {
		nr := min(block, rows-r0)
		for b0 := 0; b0 < nx; b0 += 4 {
			nb := min(4, nx-b0)
			gemvDPTable[nb-1](&out[b0*ldo+r0], ldo, &x[b0*k], k, kk, unsafe.Pointer(&w[r0*k]), nr)
		}
	}
	if kk < k {
		for r := 0; r < rows; r++ {
			for b := 0; b < nx; b++ {
				var s float32
				for e := kk; e < k; e++ {
					s += bf16(x[b*k+e]) * bf16(w[r*k+e])
				}
				out[b*ldo+r] += s
			}
		}
	}
}

func attnScoresBF16Dispatch(s []float32, lds int, q []uint16, g int, k []uint16, n, d int) {
	n16 := 0
	if useBF16 && d%32 == 0 {
		n16 = n / 16
		if n16 > 0 {
			attnScoresBF16(&s[0], lds, &q[0], g, unsafe.Pointer(&k[0]), n16, d)
		}
	}
	if n0 := 16 * n16; n0 < n {
		for h := 0; h < g; h++ {
			gemvBF16(s[h*lds+n0:], 1, q[h*d:(h+1)*d], 1, d, k[n0*d:n*d], n-n0)
		}
	}
}

type attnValuesFn func(acc *float32, lda int, p *uint32, ldp int, v unsafe.Pointer, npairs int)

// attnValuesTable[dv/4][nq-1] (dv: 32-element vectors per value row, 2 or 4).
var attnValuesTable = [2][2]attnValuesFn{
	{attnValuesBF16x1d64, attnValuesBF16x2d64},
	{attnValuesBF16x1d128, attnValuesBF16x2d128},
}

func attnValuesBF16Dispatch(acc []float32, lda int, p []uint16, ldp, g int, v []uint16, n, d int) {
	// The kernels read p as pairs (dwords): rows must start 4-byte aligned.
	aligned := ldp%2 == 0 && uintptr(unsafe.Pointer(&p[0]))%4 == 0
	if !useBF16 || (d != 64 && d != 128) || !aligned || n < 2 {
		attnValuesBF16Go(acc, lda, p, ldp, g, v, n, d)
		return
	}
	di := d/64 - 1
	for h0 := 0; h0 < g; h0 += 2 {
		nq := min(2, g-h0)
		attnValuesTable[di][nq-1](&acc[h0*lda], lda, (*uint32)(unsafe.Pointer(&p[h0*ldp])), ldp/2,
			unsafe.Pointer(&v[0]), n/2)
	}
	if n%2 == 1 {
		last := v[(n-1)*d : n*d]
		for h := 0; h < g; h++ {
			pj := bf16(p[h*ldp+n-1])
			a := acc[h*lda : h*lda+d]
			for e := range a {
				a[e] += pj * bf16(last[e])
			}
		}
	}
}

// gemmBF16ViaF32 widens both operands to float32 and runs sgemmNT: the
// same products, one per step.
func gemmBF16ViaF32(m, n, k int, a []uint16, lda int, b []uint16, ldb int, c []float32, ldc int) {
	af, bf := make([]float32, m*k), make([]float32, n*k)
	for i := 0; i < m; i++ {
		bf16ToF32(af[i*k:(i+1)*k], a[i*lda:i*lda+k])
	}
	for j := 0; j < n; j++ {
		bf16ToF32(bf[j*k:(j+1)*k], b[j*ldb:j*ldb+k])
	}
	sgemmNT(m, n, k, af, k, bf, k, c, ldc)
}

// packable reports whether rows ld bytes apart fit the gather offsets
// (int32) of packB.
func packable(ld int) bool { return 15*ld < 1<<31 }

// packB packs nr (≤ tileN) rows of n dwords, row r at src + r·ld bytes,
// into panel[tileN·s + r] (rows ≥ nr zero): full panels by register
// transposes of 16×16 blocks, the rest by gathers.
func packB(panel []uint32, src unsafe.Pointer, ld, n, nr int) {
	_ = panel[n*tileN-1]
	if nr == tileN && usePackT {
		n16 := n - n%16
		packPanelTAVX512(&panel[0], src, ld, n16)
		if n16 == n {
			return
		}
		panel, src, n = panel[n16*tileN:], unsafe.Add(src, 4*n16), n-n16
	}
	var idx [16]int32
	for r := range idx {
		idx[r] = int32(r * ld)
	}
	var masks [4]uint16
	for g := range masks {
		c := min(max(nr-16*g, 0), 16)
		masks[g] = uint16(1<<c - 1)
	}
	packPanelAVX512(&panel[0], src, ld, n, &idx[0], &masks[0])
}

// gemmKC is the number of k steps (dwords of A: floats or bfloat16 pairs)
// per block of the panel that every row tile of A passes over before the
// next block. Measured on Zen 4, blocks small enough for L1 (64 steps) are
// no faster than reading the panel from L2, so the blocks are long; tests
// shorten them to exercise the accumulation.
var gemmKC = 512

// gemmTiles runs the micro-kernel kern over all tileM-row tiles of A (row
// i at a + i·lda bytes, kp steps of 4 bytes) against one packed panel of
// nr columns, writing C[i*ldc+j] for j < nr.
func gemmTiles(kern tileFn, m int, a unsafe.Pointer, lda int, panel []uint32, kp int, c []float32, ldc, nr int) {
	var tmp []float32
	if nr < tileN {
		tmp = make([]float32, (m+tileM)*tileN)
	}
	for k0 := 0; k0 < kp; k0 += gemmKC {
		kc := min(gemmKC, kp-k0)
		acc := min(k0, 1)
		ak := unsafe.Add(a, 4*k0)
		pk := unsafe.Pointer(&panel[k0*tileN])
		for i0 := 0; i0 < m; i0 += tileM {
			mr := min(tileM, m-i0)
			if tmp == nil {
				kern(unsafe.Add(ak, i0*lda), lda, pk, &c[i0*ldc], ldc, kc, mr, acc)
			} else {
				kern(unsafe.Add(ak, i0*lda), lda, pk, &tmp[i0*tileN], tileN, kc, mr, acc)
			}
		}
	}
	for i := 0; tmp != nil && i < m; i++ {
		copy(c[i*ldc:i*ldc+nr], tmp[i*tileN:i*tileN+nr])
	}
}

// sgemmNTDot is the unpacked GEMM: 4×6 tiles of dot products with both
// operands streaming along k, for problems too narrow to pack.
func sgemmNTDot(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if !hasAVX512 || k < 16 || lda != k || ldb != k {
		if gemvLanes > 0 && lda == k && ldb == k {
			gemv(WF32, c, ldc, a, m, k, b, nil, n)
			return
		}
		sgemmNTGo(m, n, k, a, lda, b, ldb, c, ldc)
		return
	}
	m4, n6, kk := m-m%4, n-n%6, k-k%16
	for i := 0; i < m4; i++ {
		clear(c[i*ldc : i*ldc+n6])
	}
	for i0 := 0; i0 < m4; i0 += sgemmRowBlock {
		i1 := min(i0+sgemmRowBlock, m4)
		for j := 0; j < n6; j += 6 {
			for i := i0; i < i1; i += 4 {
				sgemmDot4x6AVX512(&a[i*lda], lda, &b[j*ldb], ldb, &c[i*ldc+j], ldc, kk)
			}
		}
	}
	if kk < k {
		for i := 0; i < m4; i++ {
			for j := 0; j < n6; j++ {
				c[i*ldc+j] += dotF32Go(a[i*lda+kk:i*lda+k], b[j*ldb+kk:j*ldb+k])
			}
		}
	}
	if n6 < n && m4 > 0 {
		gemv(WF32, c[n6:], ldc, a, m4, k, b[n6*ldb:], nil, n-n6)
	}
	if m4 < m {
		gemv(WF32, c[m4*ldc:], ldc, a[m4*lda:], m-m4, k, b, nil, n)
	}
}

func f32ToBF16(dst []uint16, src []float32) {
	n := 0
	if hasAVX512 && len(dst) >= 16 {
		n = len(dst) - len(dst)%16
		cvtF32ToBF16AVX512(&dst[0], &src[0], n)
	}
	f32ToBF16Go(dst[n:], src[n:])
}

func dequantRowsBF16(p *QParams, r0, r1 int, dst []uint16) {
	if !useBF16 || p.GS%16 != 0 {
		dequantRowsBF16Go(p, r0, r1, dst)
		return
	}
	wpr, g := p.WordsPerRow(), p.Groups()
	n := (r1 - r0) * g
	if p.Bits == 4 {
		dequant4BF16AVX512(&dst[0], &p.W[r0*wpr], &p.S[r0*g], &p.B[r0*g], n, p.GS, &dequant4Consts[0])
	} else {
		dequant8BF16AVX512(&dst[0], &p.W[r0*wpr], &p.S[r0*g], &p.B[r0*g], n, p.GS, &dequant4Consts[0])
	}
}

type axpyFn func(acc *float32, lda int, p *float32, ldp int, w unsafe.Pointer, ldw int, rows int)

// axpyTable[kind][np-1][0: 16 columns, 1: 64 columns]
var axpyTable = [3][4][2]axpyFn{
	WF32: {{axpyF32x1w1AVX512, axpyF32x1w4AVX512}, {axpyF32x2w1AVX512, axpyF32x2w4AVX512},
		{axpyF32x3w1AVX512, axpyF32x3w4AVX512}, {axpyF32x4w1AVX512, axpyF32x4w4AVX512}},
	WF16: {{axpyF16x1w1AVX512, axpyF16x1w4AVX512}, {axpyF16x2w1AVX512, axpyF16x2w4AVX512},
		{axpyF16x3w1AVX512, axpyF16x3w4AVX512}, {axpyF16x4w1AVX512, axpyF16x4w4AVX512}},
	WBF16: {{axpyBF16x1w1AVX512, axpyBF16x1w4AVX512}, {axpyBF16x2w1AVX512, axpyBF16x2w4AVX512},
		{axpyBF16x3w1AVX512, axpyBF16x3w4AVX512}, {axpyBF16x4w1AVX512, axpyBF16x4w4AVX512}},
}

func axpyRows(kind WKind, acc []float32, d int, p []float32, ldp, np int, w32 []float32, w16 []uint16, rows int) {
	if !hasAVX512 || d < 16 {
		axpyRowsGo(kind, acc, d, p, ldp, np, w32, w16, rows)
		return
	}
	var wp unsafe.Pointer
	esize := 2
	if kind == WF32 {
		wp, esize = unsafe.Pointer(&w32[0]), 4
	} else {
		wp = unsafe.Pointer(&w16[0])
	}
	d16 := d - d%16
	for i0 := 0; i0 < np; i0 += 4 {
		ni := min(4, np-i0)
		for c := 0; c < d16; {
			w, width := 0, 16
			if d16-c >= 64 {
				w, width = 1, 64
			}
			axpyTable[kind][ni-1][w](&acc[i0*d+c], d, &p[i0*ldp], ldp, unsafe.Add(wp, c*esize), d, rows)
			c += width
		}
	}
	if d16 < d {
		axpyTail(kind, acc, d, d16, p, ldp, np, w32, w16, rows)
	}
}

// axpyTail handles columns [d0, d) of axpyRows in Go.
func axpyTail(kind WKind, acc []float32, d, d0 int, p []float32, ldp, np int, w32 []float32, w16 []uint16, rows int) {
	for j := 0; j < rows; j++ {
		for e := d0; e < d; e++ {
			var v float32
			switch kind {
			case WF32:
				v = w32[j*d+e]
			case WF16:
				v = f16Table[w16[j*d+e]]
			default:
				v = bf16(w16[j*d+e])
			}
			for i := 0; i < np; i++ {
				acc[i*d+e] += p[i*ldp+j] * v
			}
		}
	}
}

var negInf = float32(math.Inf(-1))

// expConsts: log2 e, the flush threshold, ln 2 split so that n·ln2hi is
// exact, then the Taylor coefficients 1/i! of exp(r), i = 0…7.
var expConsts = [12]float32{math.Log2E, expFloor, 0.693359375, -2.12194440e-4,
	1, 1, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040}

func maxF32(x []float32) float32 {
	if !hasAVX512 || len(x) == 0 {
		return maxF32Go(x)
	}
	return maxF32AVX512(&x[0], len(x), &negInf)
}

func expShiftSum(x []float32, shift float32) float32 {
	if !hasAVX512 || len(x) == 0 {
		return expShiftSumGo(x, shift)
	}
	return expShiftSumAVX512(&x[0], len(x), shift, &expConsts[0])
}

func swiGLU(dst, gate, up []float32) {
	n := 0
	if hasAVX512 && len(dst) >= 16 {
		n = len(dst) - len(dst)%16
		swigluAVX512(&dst[0], &gate[0], &up[0], n, &expConsts[0])
	}
	swiGLUGo(dst[n:], gate[n:], up[n:])
}

func sumSquares(x []float32) float64 {
	n := 0
	var ss float64
	if hasAVX512 && len(x) >= 16 {
		n = len(x) - len(x)%16
		ss = sumSquaresAVX512(&x[0], n)
	}
	return ss + sumSquaresGo(x[n:])
}

func scaleRow(dst, x, w []float32, s float32) {
	n := 0
	if hasAVX512 && len(x) >= 16 {
		n = len(x) - len(x)%16
		scaleRowAVX512(&dst[0], &x[0], &w[0], s, n)
	}
	scaleRowGo(dst[n:], x[n:], w[n:], s)
}

func streamSum(buf []uint64) uint64 {
	if !hasAVX512 || len(buf) < 32 {
		return streamSumGo(buf)
	}
	n := len(buf) - len(buf)%32
	return streamSumAVX512(&buf[0], n) + streamSumGo(buf[n:])
}
