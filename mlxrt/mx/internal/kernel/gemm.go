package kernel

import "sync"

// GemmBF16NT computes C[i*ldc+j] = Σ_p A[i*lda+p]·B[j*ldb+p] for i < m,
// j < n (C = A·Bᵀ, both operands row-major with k-long rows of bfloat16 bit
// patterns), overwriting C. Products of bfloat16 values are exact in
// float32 and accumulate in float32 (two products per step on CPUs with
// AVX512_BF16, see HasBF16; elsewhere one at a time).
func GemmBF16NT(m, n, k int, a []uint16, lda int, b []uint16, ldb int, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	_ = a[(m-1)*lda+k-1]
	_ = b[(n-1)*ldb+k-1]
	_ = c[(m-1)*ldc+n-1]
	gemmBF16NT(m, n, k, a, lda, b, ldb, c, ldc)
}

func gemmBF16NTGo(m, n, k int, a []uint16, lda int, b []uint16, ldb int, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		ai := a[i*lda : i*lda+k]
		for j := 0; j < n; j++ {
			bj := b[j*ldb : j*ldb+k]
			var s float32
			for p, v := range ai {
				s += bf16(v) * bf16(bj[p])
			}
			c[i*ldc+j] = s
		}
	}
}

// GemvBF16 computes out[b*ldo+r] = dot(x[b*k:(b+1)*k], row r of w) for
// b < nx and r < rows with bfloat16 activations and weights (bit patterns;
// w holds rows×k elements), products exact and sums float32. Each weight
// row is read once for all nx rows; with AVX512_BF16 a 32-element step is
// one instruction per activation row.
func GemvBF16(out []float32, ldo int, x []uint16, nx, k int, w []uint16, rows int) {
	if rows == 0 || nx == 0 {
		return
	}
	_ = out[(nx-1)*ldo+rows-1]
	_ = x[nx*k-1]
	_ = w[rows*k-1]
	gemvBF16(out, ldo, x, nx, k, w, rows)
}

func gemvBF16Go(out []float32, ldo int, x []uint16, nx, k int, w []uint16, rows int) {
	for r := 0; r < rows; r++ {
		wr := w[r*k : (r+1)*k]
		for b := 0; b < nx; b++ {
			var s float32
			for e, v := range x[b*k : (b+1)*k] {
				s += bf16(v) * bf16(wr[e])
			}
			out[b*ldo+r] = s
		}
	}
}

// AttnScoresBF16 computes s[h*lds+j] = dot(q[h*d:(h+1)*d], k[j*d:(j+1)*d])
// for h < g query rows and j < n key rows, all bfloat16 (bit patterns),
// products exact and sums float32: the q·K pass of decode attention, each
// block of keys read once for all g query heads that share it.
func AttnScoresBF16(s []float32, lds int, q []uint16, g int, k []uint16, n, d int) {
	if g == 0 || n == 0 {
		return
	}
	_ = s[(g-1)*lds+n-1]
	_ = q[g*d-1]
	_ = k[n*d-1]
	attnScoresBF16Dispatch(s, lds, q, g, k, n, d)
}

// AttnValuesBF16 computes acc[h*lda+e] = Σ_j p_h[j]·v[j][e] for h < g
// query rows, j < n keys and e < d: the P·V pass of decode attention with
// bfloat16 probabilities p (bit patterns, row h at p[h*ldp:], n each) and
// bfloat16 value rows v (d elements each), products exact and sums
// float32, overwriting acc. Each value row is read once for all g rows.
func AttnValuesBF16(acc []float32, lda int, p []uint16, ldp, g int, v []uint16, n, d int) {
	if g == 0 {
		return
	}
	_ = acc[(g-1)*lda+d-1]
	_ = p[(g-1)*ldp+n-1]
	_ = v[n*d-1]
	attnValuesBF16Dispatch(acc, lda, p, ldp, g, v, n, d)
}

func attnValuesBF16Go(acc []float32, lda int, p []uint16, ldp, g int, v []uint16, n, d int) {
	for h := 0; h < g; h++ {
		a := acc[h*lda : h*lda+d]
		clear(a)
		for j := 0; j < n; j++ {
			pj := bf16(p[h*ldp+j])
			for e := range a {
				a[e] += pj * bf16(v[j*d+e])
			}
		}
	}
}

// RoundBF16 converts len(dst) float32 values of src to bfloat16 bit
// patterns, rounding to nearest even (as FloatToBF16), vectorised where
// the CPU allows.
func RoundBF16(dst []uint16, src []float32) { f32ToBF16(dst, src[:len(dst)]) }

// DequantRowsBF16 writes rows [r0, r1) of p as consecutive bfloat16 rows of
// dst (len ≥ (r1-r0)·K): each element scale·q + bias computed in float32
// and rounded to nearest even (on the vector path, values below 2^-126
// become zero).
func DequantRowsBF16(p *QParams, r0, r1 int, dst []uint16) {
	if r1 <= r0 {
		return
	}
	_ = p.W[r1*p.WordsPerRow()-1]
	_ = p.S[r1*p.Groups()-1]
	_ = p.B[r1*p.Groups()-1]
	_ = dst[(r1-r0)*p.K-1]
	dequantRowsBF16(p, r0, r1, dst)
}

func dequantRowsBF16Go(p *QParams, r0, r1 int, dst []uint16) {
	row := make([]float32, p.K)
	for r := r0; r < r1; r++ {
		DequantRow(p, r, row)
		f32ToBF16Go(dst[(r-r0)*p.K:(r-r0+1)*p.K], row)
	}
}

// panelPool recycles the packed B panels of the GEMMs (one per goroutine
// in flight; up to 64·k dwords each).
var panelPool = sync.Pool{New: func() any { return new([]uint32) }}

func getPanel(n int) *[]uint32 {
	b := panelPool.Get().(*[]uint32)
	if cap(*b) < n {
		*b = make([]uint32, n)
	}
	*b = (*b)[:n]
	return b
}
