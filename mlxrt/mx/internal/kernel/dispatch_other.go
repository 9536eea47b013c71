//go:build !amd64 || purego

package kernel

// Features describes the instruction sets the kernels use.
func Features() string { return "portable Go" }

func gemv(kind WKind, out []float32, ldo int, x []float32, nx, k int, w32 []float32, w16 []uint16, rows int) {
	gemvGo(kind, out, ldo, x, nx, k, w32, w16, rows)
}

func f16ToF32(dst []float32, src []uint16)  { f16ToF32Go(dst, src) }
func bf16ToF32(dst []float32, src []uint16) { bf16ToF32Go(dst, src) }

const hasQuantAsm = false

func gemvQ(p *QParams, out []float32, ldo int, x *QBatch, rows int) { gemvQGo(p, out, ldo, x, rows) }

// useBF16 mirrors the amd64 switch; the portable build has no BF16 kernels.
var useBF16 = false

// gemmKC mirrors the amd64 block length (unused by the portable GEMMs).
var gemmKC = 512

// HasBF16 reports whether GemmBF16NT and DequantRowsBF16 run on AVX512_BF16
// instructions; the portable build never does.
func HasBF16() bool { return useBF16 }

func gemmBF16NT(m, n, k int, a []uint16, lda int, b []uint16, ldb int, c []float32, ldc int) {
	gemmBF16NTGo(m, n, k, a, lda, b, ldb, c, ldc)
}

func gemvBF16(out []float32, ldo int, x []uint16, nx, k int, w []uint16, rows int) {
	gemvBF16Go(out, ldo, x, nx, k, w, rows)
}

func attnScoresBF16Dispatch(s []float32, lds int, q []uint16, g int, k []uint16, n, d int) {
	for h := 0; h < g; h++ {
		gemvBF16Go(s[h*lds:], 1, q[h*d:(h+1)*d], 1, d, k[:n*d], n)
	}
}

func attnValuesBF16Dispatch(acc []float32, lda int, p []uint16, ldp, g int, v []uint16, n, d int) {
	attnValuesBF16Go(acc, lda, p, ldp, g, v, n, d)
}

func f32ToBF16(dst []uint16, src []float32) { f32ToBF16Go(dst, src) }

func dequantRowsBF16(p *QParams, r0, r1 int, dst []uint16) { dequantRowsBF16Go(p, r0, r1, dst) }

// HasQV reports whether GemvQV runs on AVX-512 VNNI kernels; the portable
// build never does.
func HasQV() bool { return false }

func quantizeQV(b *QVBatch, x []float32, i0, i1 int) { quantizeQVGo(b, x, i0, i1) }

func gemvQV(q *QVParams, p *QParams, out []float32, ldo int, x *QVBatch, rows int) {
	gemvQVGo(p, out, ldo, x, rows)
}

func sgemmNT(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	sgemmNTGo(m, n, k, a, lda, b, ldb, c, ldc)
}

func axpyRows(kind WKind, acc []float32, d int, p []float32, ldp, np int, w32 []float32, w16 []uint16, rows int) {
	axpyRowsGo(kind, acc, d, p, ldp, np, w32, w16, rows)
}

func dequantRows(p *QParams, r0, r1 int, dst []float32) {
	for r := r0; r < r1; r++ {
		DequantRow(p, r, dst[(r-r0)*p.K:])
	}
}

func maxF32(x []float32) float32                     { return maxF32Go(x) }
func expShiftSum(x []float32, shift float32) float32 { return expShiftSumGo(x, shift) }

func swiGLU(dst, gate, up []float32) { swiGLUGo(dst, gate, up) }

func sumSquares(x []float32) float64          { return sumSquaresGo(x) }
func scaleRow(dst, x, w []float32, s float32) { scaleRowGo(dst, x, w, s) }

func streamSum(buf []uint64) uint64 { return streamSumGo(buf) }
