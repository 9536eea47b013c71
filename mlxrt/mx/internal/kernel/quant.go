package kernel

import "math"

// ChunkElems is the number of elements the quantized assembly kernels handle
// per step; a row's last K%ChunkElems elements are handled in Go.
const ChunkElems = 128

// QParams describes rows of an MLX affine-quantized matrix: element j of row
// r is S[r*G+g]*q + B[r*G+g] with g = j/GS, G = K/GS and q the Bits-wide
// field j%(32/Bits) (least significant first) of word j/(32/Bits) of the row
// in W. S and B are float32 copies of the scales and biases with at least 16
// spare elements at the end (the kernels read whole vectors).
type QParams struct {
	K, GS, Bits int
	W           []uint32
	S, B        []float32
}

// WordsPerRow returns the number of packed words of one row.
func (p *QParams) WordsPerRow() int { return p.K * p.Bits / 32 }

// Groups returns the number of groups of one row.
func (p *QParams) Groups() int { return p.K / p.GS }

// XBlock is the number of consecutive activation elements that share one
// int8 scale when a row is quantized for the integer dot products (as
// llama.cpp's Q8_0 blocks).
const XBlock = 32

// quantizeBlock rounds one block of x to int8 with scale max|x|/127 (round
// half to even) into q and returns the scale; an all-zero block gets scale
// 0 and zeros.
func quantizeBlock(q []int8, x []float32) float32 {
	var mx float32
	for _, v := range x {
		mx = max(mx, float32(math.Abs(float64(v))))
	}
	if mx == 0 {
		clear(q[:len(x)])
		return 0
	}
	inv := 127 / mx
	for j, v := range x {
		q[j] = int8(math.RoundToEven(float64(v * inv)))
	}
	return mx / 127
}

// QX is an activation row quantized to int8 for the integer dot product with
// quantized weights: each block of XBlock elements has one scale (max|x|/127),
// repeated in XS for each of its packed weight words, and XSum holds the sum
// of each word's rounded elements x̂ = XS·xq, so that
// dot(x̂, w) = Σ_words S·XS·Σ(q·xq) + B·XSum. Both terms use the same rounded
// x̂, so the result is the exact product of the dequantized weights with x̂
// (up to float32 rounding): its error against x is Σw(x̂−x), each |x̂−x| at
// most max|x_blk|/254 for the element's block.
type QX struct {
	K, Bits int
	Q       []int8    // K values; for 4 bits each full 128-element chunk is stored evens first, then odds
	XS      []float32 // per packed word: scale of its block (max|x|/127)
	XSum    []float32 // per packed word: Σx̂ = XS·Σxq
}

// Prepare quantizes x (len K, a multiple of XBlock) for weights of the given
// bit width, reusing q's buffers.
func (q *QX) Prepare(x []float32, bits int) {
	k := len(x)
	epw := 32 / bits
	q.K, q.Bits = k, bits
	q.Q = grow(q.Q, k)
	q.XS = growF(q.XS, k/epw)
	q.XSum = growF(q.XSum, k/epw)
	var blk [XBlock]int8
	for b0 := 0; b0 < k; b0 += XBlock {
		n := min(XBlock, k-b0)
		s := quantizeBlock(blk[:n], x[b0:b0+n])
		for w := b0 / epw; w < (b0+n)/epw; w++ {
			var sum int32
			for j := 0; j < epw; j++ {
				v := blk[w*epw+j-b0]
				q.Q[q.pos(w*epw+j)] = v
				sum += int32(v)
			}
			q.XS[w] = s
			// The bias term uses the rounded values too: B·Σx̂ pairs
			// with S·Σq·x̂, so the error is Σw(x̂−x) rather than
			// Σ(w−B)(x̂−x).
			q.XSum[w] = s * float32(sum)
		}
	}
}

// pos returns where element e lives in Q.
func (q *QX) pos(e int) int {
	if q.Bits != 4 || e >= q.K/ChunkElems*ChunkElems {
		return e
	}
	c, r := e/ChunkElems, e%ChunkElems
	l, i, odd := r/8, (r%8)/2, r%2
	return c*ChunkElems + odd*64 + 4*l + i
}

func grow(b []int8, n int) []int8 {
	if cap(b) < n {
		return make([]int8, n)
	}
	return b[:n]
}

func growF(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// QBatch is a batch of quantized activation rows ready for GemvQ. On CPUs
// with AVX2 it also holds the rows interleaved chunk by chunk, the layout
// the assembly reads: for chunk c and row b, 128 bytes of Q, then the
// chunk's XS, then its XSum (16 words each for 4 bits, 32 for 8 bits).
type QBatch struct {
	Rows   []*QX
	packed []byte
	rcs    int // bytes per row per chunk in packed
}

// NewQBatch prepares rows (all of one K and bit width) for GemvQ.
func NewQBatch(rows []*QX) *QBatch {
	b := &QBatch{Rows: rows}
	if len(rows) > 0 && hasQuantAsm {
		b.pack()
	}
	return b
}

func (b *QBatch) pack() {
	x0 := b.Rows[0]
	nch := x0.K / ChunkElems
	wpc := ChunkElems * x0.Bits / 32
	b.rcs = ChunkElems + 8*wpc
	nx := len(b.Rows)
	b.packed = make([]byte, nch*nx*b.rcs)
	for c := 0; c < nch; c++ {
		for i, x := range b.Rows {
			dst := b.packed[(c*nx+i)*b.rcs:][:b.rcs]
			for j, v := range x.Q[c*ChunkElems : (c+1)*ChunkElems] {
				dst[j] = byte(v)
			}
			putF32s(dst[ChunkElems:], x.XS[c*wpc:(c+1)*wpc])
			putF32s(dst[ChunkElems+4*wpc:], x.XSum[c*wpc:(c+1)*wpc])
		}
	}
}

func putF32s(dst []byte, v []float32) {
	for i, f := range v {
		u := math.Float32bits(f)
		dst[4*i], dst[4*i+1], dst[4*i+2], dst[4*i+3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
	}
}

// GemvQ computes out[b*ldo+r] = dot(x.Rows[b], row r of p) for r < rows,
// reading each packed weight row once for up to four activation rows. p.W,
// p.S and p.B must start at the first row to compute.
func GemvQ(p *QParams, out []float32, ldo int, x *QBatch, rows int) {
	nx := len(x.Rows)
	if rows == 0 || nx == 0 {
		return
	}
	_ = out[(nx-1)*ldo+rows-1]
	_ = p.W[rows*p.WordsPerRow()-1]
	_ = p.S[rows*p.Groups()-1]
	_ = p.B[rows*p.Groups()-1]
	for _, r := range x.Rows {
		if r.K != p.K || r.Bits != p.Bits {
			panic("kernel: GemvQ: activation prepared for another weight layout")
		}
	}
	gemvQ(p, out, ldo, x, rows)
}

// dotQRowGo returns the dot product of x with row r of p over words
// [w0, w1) of the row, the reference for the assembly kernels.
func dotQRowGo(p *QParams, x *QX, r, w0, w1 int) float32 {
	epw := 32 / p.Bits
	mask := uint32(1)<<p.Bits - 1
	wpr := p.WordsPerRow()
	g := p.Groups()
	words := p.W[r*wpr : (r+1)*wpr]
	var acc float32
	for w := w0; w < w1; w++ {
		word := words[w]
		var idot int32
		for j := 0; j < epw; j++ {
			qv := int32(word >> (uint(j) * uint(p.Bits)) & mask)
			idot += qv * int32(x.Q[x.pos(w*epw+j)])
		}
		grp := r*g + w*epw/p.GS
		acc += float32(idot)*(p.S[grp]*x.XS[w]) + p.B[grp]*x.XSum[w]
	}
	return acc
}

func gemvQGo(p *QParams, out []float32, ldo int, x *QBatch, rows int) {
	nw := p.WordsPerRow()
	for r := 0; r < rows; r++ {
		for b, xr := range x.Rows {
			out[b*ldo+r] = dotQRowGo(p, xr, r, 0, nw)
		}
	}
}

// DequantRows writes rows [r0, r1) of p as consecutive float32 rows of dst
// (len ≥ (r1-r0)·K), vectorised where the CPU allows.
func DequantRows(p *QParams, r0, r1 int, dst []float32) {
	if r1 <= r0 {
		return
	}
	_ = p.W[r1*p.WordsPerRow()-1]
	_ = p.S[r1*p.Groups()-1]
	_ = p.B[r1*p.Groups()-1]
	_ = dst[(r1-r0)*p.K-1]
	dequantRows(p, r0, r1, dst)
}

// DequantRow writes row r of p as float32 into dst (len p.K).
func DequantRow(p *QParams, r int, dst []float32) {
	epw := 32 / p.Bits
	mask := uint32(1)<<p.Bits - 1
	wpr := p.WordsPerRow()
	g := p.Groups()
	words := p.W[r*wpr : (r+1)*wpr]
	dst = dst[:p.K]
	for j := range dst {
		qv := float32(words[j/epw] >> (uint(j%epw) * uint(p.Bits)) & mask)
		grp := r*g + j/p.GS
		dst[j] = p.S[grp]*qv + p.B[grp]
	}
}
