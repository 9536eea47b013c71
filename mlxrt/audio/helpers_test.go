package audio_test

import (
	"errors"
	"math"
	"math/cmplx"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/audio"
	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/dsp"
)

var codecs = audio.New()

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// reference is the flite utterance every fixture was made from, 16 kHz.
func reference(t testing.TB) pipeline.Audio {
	t.Helper()
	a, err := codecs.Decode(fixture(t, "speech.wav"), pipeline.DecodeOptions{})
	require.NoError(t, err)
	require.Equal(t, 16000, a.Rate)
	return a
}

func haveOpus() bool { return slices.Contains(audio.EncodeFormats(), "opus") }
func haveMP3() bool  { return slices.Contains(audio.EncodeFormats(), "mp3") }

// requireKind asserts err is a *pipeline.Error of kind.
func requireKind(t testing.TB, err error, kind pipeline.ErrorKind) *pipeline.Error {
	t.Helper()
	require.Error(t, err)
	var pe *pipeline.Error
	require.True(t, errors.As(err, &pe), "not a *pipeline.Error: %T %v", err, err)
	require.Equal(t, kind, pe.Kind, "kind of %q", pe.Message)
	require.NotEmpty(t, pe.Message)
	return pe
}

// to16k resamples a to 16 kHz for comparison with the reference.
func to16k(t testing.TB, a pipeline.Audio) []float32 {
	t.Helper()
	s, err := dsp.Resample(a.Samples, a.Rate, 16000)
	require.NoError(t, err)
	return s
}

// similarity is the peak of the normalised cross-correlation of a and b
// over every lag (computed with an FFT) and the lag of b relative to a.
// 1 means identical up to a delay and a gain.
func similarity(a, b []float32) (float64, int) {
	n := 1
	for n < len(a)+len(b) {
		n <<= 1
	}
	fa, fb := make([]complex128, n), make([]complex128, n)
	var ea, eb float64
	for i, v := range a {
		fa[i] = complex(float64(v), 0)
		ea += float64(v) * float64(v)
	}
	for i, v := range b {
		fb[i] = complex(float64(v), 0)
		eb += float64(v) * float64(v)
	}
	fft(fa, false)
	fft(fb, false)
	for i := range fa {
		fa[i] = cmplx.Conj(fa[i]) * fb[i]
	}
	fft(fa, true)
	best, lag := math.Inf(-1), 0
	for i, v := range fa {
		if c := real(v) / float64(n); c > best {
			best, lag = c, i
		}
	}
	if lag > n/2 {
		lag -= n
	}
	return best / math.Sqrt(ea*eb+1e-30), lag
}

// fft is an in-place radix-2 transform; len(x) must be a power of two.
func fft(x []complex128, inverse bool) {
	n := len(x)
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j ^= bit
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	sign := -1.0
	if inverse {
		sign = 1
	}
	for size := 2; size <= n; size <<= 1 {
		w := cmplx.Exp(complex(0, sign*2*math.Pi/float64(size)))
		for start := 0; start < n; start += size {
			wk := complex(1, 0)
			for k := range size / 2 {
				u, v := x[start+k], x[start+k+size/2]*wk
				x[start+k], x[start+k+size/2] = u+v, u-v
				wk *= w
			}
		}
	}
}

func rms(x []float32) float64 {
	var e float64
	for _, v := range x {
		e += float64(v) * float64(v)
	}
	return math.Sqrt(e / float64(max(len(x), 1)))
}
