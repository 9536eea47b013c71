package kernel

import (
	"encoding/binary"
	"math"
)

// SuperElems is the number of elements of a row that one step of the
// decode kernels for repacked weights (QV) covers: 16 lanes, each a block
// of XBlock elements.
const SuperElems = 16 * XBlock

// qvXBytes is the size of one activation row's share of a super-chunk in
// a QVBatch: 8 vectors of 16 lanes × 4 int8 (quads), then 16 block scales
// and 16 block sums (float32).
const qvXBytes = 8*64 + 2*64

// QVParams is the decode layout of an MLX affine-quantized matrix: each
// row padded with zeros to KP elements (a multiple of SuperElems) and its
// packed words permuted so that lane l of every vector of super-chunk c
// covers block 16c+l (XBlock elements). The integer dot product of a
// lane then runs over a whole block, which shares one activation scale and
// one weight group, so float work happens once per block instead of once
// per word. For 4 bits, vector v (v < 4) of a super-chunk holds word v of
// each lane's block with its nibbles reordered: byte j is elements 8v+j
// (low nibble) and 8v+4+j (high nibble), so that masking and shifting give
// two vectors of consecutive quads. For 8 bits vector v (v < 8) is word v
// unchanged. S and B are the float32 scales and biases of QParams
// (per row K/GS groups, at least 16 spare elements at the end).
type QVParams struct {
	K, KP, GS, Bits int
	W               []uint32
	S, B            []float32
}

// NewQVParams returns the decode layout of a matrix with rows rows
// described by p, with W allocated but not filled (RepackQV fills it).
func NewQVParams(p *QParams, rows int) *QVParams {
	kp := (p.K + SuperElems - 1) / SuperElems * SuperElems
	return &QVParams{K: p.K, KP: kp, GS: p.GS, Bits: p.Bits,
		W: make([]uint32, rows*kp*p.Bits/32), S: p.S, B: p.B}
}

// WordsPerRow returns the number of packed words of one (padded) row.
func (q *QVParams) WordsPerRow() int { return q.KP * q.Bits / 32 }

// Groups returns the number of scale groups of one row.
func (q *QVParams) Groups() int { return q.K / q.GS }

// RepackQV writes rows [r0, r1) of p into the layout of q.
func RepackQV(q *QVParams, p *QParams, r0, r1 int) {
	wpr, wprV := p.WordsPerRow(), q.WordsPerRow()
	blocks := p.K / XBlock
	wpb := p.Bits // words per block of XBlock elements
	for r := r0; r < r1; r++ {
		src := p.W[r*wpr : (r+1)*wpr]
		dst := q.W[r*wprV : (r+1)*wprV]
		for i := range dst {
			c, rem := i/(16*wpb), i%(16*wpb)
			v, l := rem/16, rem%16
			blk := 16*c + l
			if blk >= blocks {
				dst[i] = 0
				continue
			}
			w := src[blk*wpb+v]
			if p.Bits == 4 {
				w = spreadNibbles(w&0xffff) | spreadNibbles(w>>16)<<4
			}
			dst[i] = w
		}
	}
}

// spreadNibbles moves the four nibbles of x (< 2^16) to the low nibbles
// of the four bytes of the result.
func spreadNibbles(x uint32) uint32 {
	x = (x | x<<8) & 0x00ff00ff
	return (x | x<<4) & 0x0f0f0f0f
}

// QVBatch is a batch of activation rows quantized for GemvQV: each block
// of XBlock elements is rounded to int8 with scale max|x_blk|/127 (round half
// to even, as QX) and its sum of rounded values x̂ = scale·xq is kept for the
// bias term. Packed holds the rows in the kernels' layout, super-chunk by
// super-chunk with the rows interleaved: for super-chunk c and row i,
// qvXBytes bytes at (c·N+i)·qvXBytes: 8 vectors (t < 8) whose lane l holds
// elements 4t…4t+3 of block 16c+l, then the 16 blocks' scales and sums
// (float32). Blocks past K (padding up to KP) are zero.
type QVBatch struct {
	N, K, KP int
	Packed   []byte
}

// Reset sizes b for n rows of k elements (a multiple of XBlock) against
// weights whose padded row length is kp; Quantize then fills the rows.
func (b *QVBatch) Reset(n, k, kp int) {
	b.N, b.K, b.KP = n, k, kp
	b.Packed = growB(b.Packed, kp/SuperElems*n*qvXBytes)
	if kp != k {
		clear(b.Packed) // padding blocks stay zero
	}
}

// Quantize quantizes rows [i0, i1) of x (b.N rows of b.K elements) into b;
// calls for disjoint row ranges may run concurrently.
func (b *QVBatch) Quantize(x []float32, i0, i1 int) {
	_ = x[b.N*b.K-1]
	quantizeQV(b, x, i0, i1)
}

func quantizeQVGo(b *QVBatch, x []float32, i0, i1 int) {
	k, n := b.K, b.N
	var q [XBlock]int8
	for i := i0; i < i1; i++ {
		for blk := 0; blk < k/XBlock; blk++ {
			s := quantizeBlock(q[:], x[i*k+blk*XBlock:i*k+(blk+1)*XBlock])
			var sum int32
			for _, v := range q {
				sum += int32(v)
			}
			c, l := blk/16, blk%16
			dst := b.Packed[(c*n+i)*qvXBytes:][:qvXBytes]
			for e, v := range q {
				dst[e/4*64+4*l+e%4] = byte(v)
			}
			binary.LittleEndian.PutUint32(dst[512+4*l:], math.Float32bits(s))
			binary.LittleEndian.PutUint32(dst[576+4*l:], math.Float32bits(s*float32(sum)))
		}
	}
}

// block returns element e of row i's block blk (e < XBlock) and the
// block's scale and sum of rounded values, read back from Packed.
func (b *QVBatch) block(i, blk int) (q [XBlock]int8, scale, sum float32) {
	c, l := blk/16, blk%16
	src := b.Packed[(c*b.N+i)*qvXBytes:][:qvXBytes]
	for e := range q {
		q[e] = int8(src[e/4*64+4*l+e%4])
	}
	scale = math.Float32frombits(binary.LittleEndian.Uint32(src[512+4*l:]))
	sum = math.Float32frombits(binary.LittleEndian.Uint32(src[576+4*l:]))
	return q, scale, sum
}

// PrepareQV quantizes n rows of x (each k long) for weights whose padded
// row length is kp, reusing b's buffers.
func PrepareQV(b *QVBatch, x []float32, n, k, kp int) {
	b.Reset(n, k, kp)
	b.Quantize(x, 0, n)
}

func growB(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// GemvQV computes out[b*ldo+r] = Σ_blocks S·XS·Σ(q·xq) + B·XSum for the
// rows of x and weight rows r < rows of q (q.W, q.S and q.B starting at the
// first row to compute), reading each weight row once for all rows of x.
// p must describe the same rows in the MLX layout (the portable path reads
// it instead of q.W).
func GemvQV(q *QVParams, p *QParams, out []float32, ldo int, x *QVBatch, rows int) {
	if rows == 0 || x.N == 0 {
		return
	}
	if x.K != q.K || x.KP != q.KP || p.K != q.K || p.Bits != q.Bits {
		panic("kernel: GemvQV: activation prepared for another weight layout")
	}
	_ = out[(x.N-1)*ldo+rows-1]
	_ = q.W[rows*q.WordsPerRow()-1]
	_ = p.W[rows*p.WordsPerRow()-1]
	_ = q.S[rows*q.Groups()-1+16]
	_ = q.B[rows*q.Groups()-1+16]
	gemvQV(q, p, out, ldo, x, rows)
}

// gemvQVGo is the portable reference of GemvQV: the same integer products
// and float32 scaling per block, from the MLX layout.
func gemvQVGo(p *QParams, out []float32, ldo int, x *QVBatch, rows int) {
	epw := 32 / p.Bits
	mask := uint32(1)<<p.Bits - 1
	wpr, g := p.WordsPerRow(), p.Groups()
	nb := p.K / XBlock
	for i := 0; i < x.N; i++ {
		for r := 0; r < rows; r++ {
			words := p.W[r*wpr : (r+1)*wpr]
			var acc float32
			for blk := 0; blk < nb; blk++ {
				q, xs, xsum := x.block(i, blk)
				var idot int32
				for j, xq := range q {
					e := blk*XBlock + j
					qv := int32(words[e/epw] >> (uint(e%epw) * uint(p.Bits)) & mask)
					idot += qv * int32(xq)
				}
				grp := r*g + blk*XBlock/p.GS
				acc += float32(idot)*xs*p.S[grp] + xsum*p.B[grp]
			}
			out[i*ldo+r] = acc
		}
	}
}

// laneGroupIdx[log2(gs/32)] maps lane l of a super-chunk to its scale
// group relative to the super-chunk's first group.
var laneGroupIdx = func() (t [3][16]int32) {
	for i, gs := range []int{32, 64, 128} {
		for l := range t[i] {
			t[i][l] = int32(l * XBlock / gs)
		}
	}
	return t
}()

func laneGroupIndex(gs int) *[16]int32 {
	switch gs {
	case 64:
		return &laneGroupIdx[1]
	case 128:
		return &laneGroupIdx[2]
	}
	return &laneGroupIdx[0]
}
