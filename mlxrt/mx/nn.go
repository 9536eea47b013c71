package mx

import (
	"fmt"
	"math"

	"github.com/ominix/ominix-api/mlxrt/mx/internal/kernel"
)

// floatRows returns a's elements as float32 (a view for F32, else a copy).
func floatRows(op string, a *Array) []float32 {
	if a.dt == F32 {
		return f32s(a.data)
	}
	if !a.dt.IsFloat() {
		panic(fmt.Sprintf("mx: %s: dtype %v, want a float dtype", op, a.dt))
	}
	return a.Float32s()
}

func (cpuBackend) RMSNorm(x, weight *Array, eps float32) *Array {
	m, d := x.rows()
	xs := floatRows("RMSNorm", x)
	var w []float32
	if weight != nil {
		if weight.Size() != d {
			panic(fmt.Sprintf("mx: RMSNorm: weight %v for input %v", weight, x))
		}
		w = floatRows("RMSNorm", weight)
	}
	out, o := newF32(x.shape...)
	parallelFor(m, max(1, 16384/max(d, 1)), 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			rmsRow(o[i*d:(i+1)*d], xs[i*d:(i+1)*d], w, eps)
		}
	})
	return out
}

func rmsRow(dst, x, w []float32, eps float32) { kernel.RMSRow(dst, x, w, eps) }

// RoPEOptions configures RoPE. The zero value of each field is its default.
type RoPEOptions struct {
	// Dims is how many leading features of each head are rotated (even);
	// 0 means all of D. The remaining features pass through.
	Dims int
	// Traditional rotates interleaved pairs (x[2i], x[2i+1]) as the original
	// RoPE and mx.fast.rope(traditional=True) do; false rotates the halves
	// (x[i], x[i+Dims/2]) as Hugging Face Llama/Qwen/Mistral do.
	Traditional bool
	// Base is θ in inv_freq[i] = Base^(-2i/Dims); 0 means 10000. Ignored when
	// InvFreq is set.
	Base float64
	// Scale multiplies positions (linear scaling uses 1/factor); 0 means 1.
	Scale float64
	// InvFreq, when set, gives the Dims/2 inverse frequencies directly, so
	// the model can apply dynamic-NTK, Llama-3 or YaRN frequency scaling.
	// (MLX's freqs argument holds the reciprocals of these.)
	InvFreq []float32
	// Offset is the position of row 0; row t has position Offset+t.
	Offset int
	// Positions, when set, gives each row's position (len T) and replaces
	// Offset: batched decode rows belong to sequences at different positions.
	Positions []int
}

func (o *RoPEOptions) invFreq(dims int) []float32 {
	if o.InvFreq != nil {
		if len(o.InvFreq) != dims/2 {
			panic(fmt.Sprintf("mx: RoPE: %d inverse frequencies for %d dims", len(o.InvFreq), dims))
		}
		return o.InvFreq
	}
	base := o.Base
	if base == 0 {
		base = 10000
	}
	f := make([]float32, dims/2)
	for i := range f {
		f[i] = float32(math.Pow(base, -float64(2*i)/float64(dims)))
	}
	return f
}

func (cpuBackend) RoPE(x *Array, o RoPEOptions) *Array {
	if x.NDim() != 3 {
		panic(fmt.Sprintf("mx: RoPE: input %v, want [T, H, D]", x))
	}
	t, h, d := x.shape[0], x.shape[1], x.shape[2]
	dims := o.Dims
	if dims == 0 {
		dims = d
	}
	if dims%2 != 0 || dims > d {
		panic(fmt.Sprintf("mx: RoPE: dims %d for head size %d", dims, d))
	}
	if o.Positions != nil && len(o.Positions) != t {
		panic(fmt.Sprintf("mx: RoPE: %d positions for %d rows", len(o.Positions), t))
	}
	inv := o.invFreq(dims)
	scale := o.Scale
	if scale == 0 {
		scale = 1
	}
	xs := floatRows("RoPE", x)
	out, ov := newF32(x.shape...)
	copy(ov, xs)
	half := dims / 2
	parallelFor(t, max(1, 64/max(h, 1)), 1, func(lo, hi int) {
		cs := make([]float32, 2*half)
		for r := lo; r < hi; r++ {
			pos := o.Offset + r
			if o.Positions != nil {
				pos = o.Positions[r]
			}
			// float32 angles as transformers computes them (inv_freq·pos in
			// float32), so long positions round the same way.
			p := float32(float64(pos) * scale)
			for i := 0; i < half; i++ {
				s, c := math.Sincos(float64(p * inv[i]))
				cs[2*i], cs[2*i+1] = float32(c), float32(s)
			}
			for hh := 0; hh < h; hh++ {
				rotate(ov[(r*h+hh)*d:], cs, half, o.Traditional)
			}
		}
	})
	return out
}

func rotate(v, cs []float32, half int, traditional bool) {
	for i := 0; i < half; i++ {
		c, s := cs[2*i], cs[2*i+1]
		a, b := 2*i, 2*i+1
		if !traditional {
			a, b = i, i+half
		}
		x1, x2 := v[a], v[b]
		v[a] = x1*c - x2*s
		v[b] = x1*s + x2*c
	}
}

func silu(v float32) float32 { return v / (1 + float32(math.Exp(float64(-v)))) }

func (cpuBackend) SiLU(x *Array) *Array {
	xs := floatRows("SiLU", x)
	out, o := newF32(x.shape...)
	for i, v := range xs {
		o[i] = silu(v)
	}
	return out
}

func (cpuBackend) SwiGLU(gate, up *Array) *Array {
	if !sameShape(gate.shape, up.shape) {
		panic(fmt.Sprintf("mx: SwiGLU: shapes %v and %v differ", gate, up))
	}
	g, u := floatRows("SwiGLU", gate), floatRows("SwiGLU", up)
	out, o := newF32(gate.shape...)
	parallelFor(len(o), 4096, 16, func(lo, hi int) {
		kernel.SwiGLU(o[lo:hi], g[lo:hi], u[lo:hi])
	})
	return out
}

func (cpuBackend) Softmax(x *Array) *Array {
	m, d := x.rows()
	xs := floatRows("Softmax", x)
	out, o := newF32(x.shape...)
	for i := 0; i < m; i++ {
		softmaxRow(o[i*d:(i+1)*d], xs[i*d:(i+1)*d])
	}
	return out
}

// softmaxRow writes softmax(x) into dst; -Inf entries get probability 0 and
// a row of only -Inf becomes all zeros.
func softmaxRow(dst, x []float32) {
	copy(dst, x)
	m := kernel.MaxF32(dst)
	if math.IsInf(float64(m), -1) {
		clear(dst)
		return
	}
	scaleRow(dst, kernel.ExpShiftSum(dst, m))
}

func (cpuBackend) LogSoftmax(x *Array) *Array {
	m, d := x.rows()
	xs := floatRows("LogSoftmax", x)
	out, o := newF32(x.shape...)
	for i := 0; i < m; i++ {
		row, dst := xs[i*d:(i+1)*d], o[i*d:(i+1)*d]
		mx := float32(math.Inf(-1))
		for _, v := range row {
			mx = max(mx, v)
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v - mx))
		}
		lse := mx + float32(math.Log(sum))
		for j, v := range row {
			dst[j] = v - lse
		}
	}
	return out
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
