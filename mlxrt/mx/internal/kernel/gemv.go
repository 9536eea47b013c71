package kernel

// WKind names the storage of a weight matrix row.
type WKind uint8

// Weight storage kinds.
const (
	WF32 WKind = iota
	WF16
	WBF16
)

// Gemv computes out[b*ldo+r] = dot(x[b*k:(b+1)*k], row r of w) for b < nx and
// r < rows, where w holds rows*k elements row-major (float32 for WF32 in w32,
// half or bfloat16 bit patterns in w16 otherwise). Each weight row is read
// once for all nx activation rows, which is what makes batched decode pay.
func Gemv(kind WKind, out []float32, ldo int, x []float32, nx, k int, w32 []float32, w16 []uint16, rows int) {
	if rows == 0 || nx == 0 {
		return
	}
	_ = out[(nx-1)*ldo+rows-1]
	_ = x[nx*k-1]
	if kind == WF32 {
		_ = w32[rows*k-1]
	} else {
		_ = w16[rows*k-1]
	}
	gemv(kind, out, ldo, x, nx, k, w32, w16, rows)
}

func gemvGo(kind WKind, out []float32, ldo int, x []float32, nx, k int, w32 []float32, w16 []uint16, rows int) {
	for r := 0; r < rows; r++ {
		for b := 0; b < nx; b++ {
			xb := x[b*k : (b+1)*k]
			var s float32
			switch kind {
			case WF32:
				s = dotF32Go(xb, w32[r*k:(r+1)*k])
			case WF16:
				s = dotF16Go(xb, w16[r*k:(r+1)*k])
			default:
				s = dotBF16Go(xb, w16[r*k:(r+1)*k])
			}
			out[b*ldo+r] = s
		}
	}
}

// Dot returns the dot product of x and w[:len(x)] for float32 weights.
func Dot(x, w []float32) float32 {
	var o [1]float32
	Gemv(WF32, o[:], 1, x, 1, len(x), w, nil, 1)
	return o[0]
}

// F16ToF32 converts len(dst) half values from src.
func F16ToF32(dst []float32, src []uint16) { f16ToF32(dst, src[:len(dst)]) }

// BF16ToF32 converts len(dst) bfloat16 values from src.
func BF16ToF32(dst []float32, src []uint16) { bf16ToF32(dst, src[:len(dst)]) }

// F32ToF16 converts len(dst) float32 values to half, rounding to nearest even.
func F32ToF16(dst []uint16, src []float32) { f32ToF16Go(dst, src[:len(dst)]) }

// F32ToBF16 converts len(dst) float32 values to bfloat16, nearest even.
func F32ToBF16(dst []uint16, src []float32) { f32ToBF16(dst, src[:len(dst)]) }

// AxpyRows adds Σ_j p[i*ldp+j]·w_j to acc[i*d:(i+1)*d] for i < np and
// j < rows, where w_j is row j of w (d elements; float32 in w32, or half /
// bfloat16 bit patterns in w16). Each w row is read once for all np rows.
func AxpyRows(kind WKind, acc []float32, d int, p []float32, ldp, np int, w32 []float32, w16 []uint16, rows int) {
	if rows == 0 || np == 0 || d == 0 {
		return
	}
	_ = acc[np*d-1]
	_ = p[(np-1)*ldp+rows-1]
	if kind == WF32 {
		_ = w32[rows*d-1]
	} else {
		_ = w16[rows*d-1]
	}
	axpyRows(kind, acc, d, p, ldp, np, w32, w16, rows)
}

func axpyRowsGo(kind WKind, acc []float32, d int, p []float32, ldp, np int, w32 []float32, w16 []uint16, rows int) {
	var tmp []float32
	if kind != WF32 {
		tmp = make([]float32, d)
	}
	for j := 0; j < rows; j++ {
		var row []float32
		switch kind {
		case WF32:
			row = w32[j*d : (j+1)*d]
		case WF16:
			f16ToF32Go(tmp, w16[j*d:(j+1)*d])
			row = tmp
		default:
			bf16ToF32Go(tmp, w16[j*d:(j+1)*d])
			row = tmp
		}
		for i := 0; i < np; i++ {
			a := p[i*ldp+j]
			dst := acc[i*d : (i+1)*d]
			for e, v := range row {
				dst[e] += a * v
			}
		}
	}
}
