package dsp

import (
	"math"
	"sync"
)

// Filter design. The prototype low-pass is a Kaiser-windowed sinc whose
// passband ends at passEdge of the lower Nyquist frequency and whose stopband
// starts exactly at the lower Nyquist frequency, so nothing above the output
// band can fold back into it by more than stopbandDB.
const (
	stopbandDB = 90.0
	passEdge   = 0.88 // fraction of the lower Nyquist frequency kept flat
	// maxExactPhases bounds the polyphase table of an exact rational
	// resampler; rate pairs with more phases (coprime odd rates) use a
	// table of interpPhases rows and interpolate linearly between rows.
	maxExactPhases = 1024
	interpPhases   = 256
	// maxTableFloats bounds one coefficient table (8 MiB of float32).
	maxTableFloats = 2 << 20
	// maxCachedKernels bounds the process-wide kernel cache.
	maxCachedKernels = 64
)

// kernel is an immutable polyphase coefficient table shared by every
// Resampler of the same rate pair.
type kernel struct {
	up, down int // output advances by down/up input samples per sample
	taps     int // 2*half coefficients per row
	half     int // taps reach half-1 samples back and half samples ahead
	rows     int // up (exact) or interpPhases+1 (interpolated)
	exact    bool
	coef     []float32 // rows*taps, row-major
}

func (k *kernel) row(i int) []float32 { return k.coef[i*k.taps : (i+1)*k.taps] }

var kernelCache struct {
	sync.Mutex
	m map[[2]int]*kernel
}

// kernelFor returns the (possibly cached) kernel converting from → to.
// Rates must already be validated.
func kernelFor(from, to int) *kernel {
	key := [2]int{from, to}
	kernelCache.Lock()
	k := kernelCache.m[key]
	kernelCache.Unlock()
	if k != nil {
		return k
	}
	k = designKernel(from, to)
	kernelCache.Lock()
	defer kernelCache.Unlock()
	if kernelCache.m == nil {
		kernelCache.m = make(map[[2]int]*kernel)
	}
	if len(kernelCache.m) < maxCachedKernels {
		kernelCache.m[key] = k
	}
	return k
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// designKernel builds the polyphase table. Time is measured in input
// samples: output sample k sits at input time k*down/up, and its value is
// the sum over input samples n of x[n]*g(t-n) with g the windowed sinc.
func designKernel(from, to int) *kernel {
	g := gcd(from, to)
	up, down := to/g, from/g
	scale := math.Min(1, float64(to)/float64(from)) // lower Nyquist / input Nyquist
	transition := (1 - passEdge) / 2                // in cycles per lower-rate sample
	// Kaiser's estimate of the length for the attenuation and transition.
	ntaps := (stopbandDB-7.95)/(2.285*2*math.Pi*transition) + 1
	halfLow := ntaps / 2                 // half-length in lower-rate samples
	halfIn := halfLow / scale            // half-length in input samples
	half := int(math.Ceil(halfIn))       // taps each side
	cutoff := scale * (1 + passEdge) / 2 // -6 dB point, fraction of input Nyquist
	beta := 0.1102 * (stopbandDB - 8.7)
	k := &kernel{up: up, down: down, half: half, taps: 2 * half}
	if up <= maxExactPhases && up*k.taps <= maxTableFloats {
		k.exact, k.rows = true, up
	} else {
		k.rows = min(interpPhases, max(16, maxTableFloats/k.taps)) + 1
	}
	k.coef = make([]float32, k.rows*k.taps)
	i0beta := besselI0(beta)
	vals := make([]float64, k.taps)
	for r := range k.rows {
		var frac float64
		if k.exact {
			frac = float64(r) / float64(up)
		} else {
			frac = float64(r) / float64(k.rows-1)
		}
		row := k.row(r)
		var sum float64
		for i := range vals {
			t := frac + float64(half-1-i) // distance from the output instant
			v := 0.0
			if x := t / halfIn; x > -1 && x < 1 {
				v = cutoff * sinc(cutoff*t) * besselI0(beta*math.Sqrt(1-x*x)) / i0beta
			}
			vals[i] = v
			sum += v
		}
		for i, v := range vals {
			// Normalising every phase to unit DC gain removes the
			// small periodic gain ripple a truncated sinc would add.
			row[i] = float32(v / sum)
		}
	}
	return k
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the zeroth-order modified Bessel function of the first kind,
// by its power series (converges quickly for the arguments used here).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	q := x * x / 4
	for k := 1; k < 200; k++ {
		term *= q / float64(k*k)
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

// dot is the inner product of two equally long vectors, unrolled by four.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}
