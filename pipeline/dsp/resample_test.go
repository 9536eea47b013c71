package dsp_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline/dsp"
)

var commonRates = []int{8000, 16000, 22050, 24000, 44100, 48000}

func tone(rate int, freq, amp float64, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

// errorDB compares got with the ideal tone at rate over the middle of the
// signal (the edges see the zero padding) and returns the residual energy
// relative to the tone's, in dB. A tone that keeps its frequency, amplitude
// and phase (no delay) with no aliases or images gives a very negative
// number.
func errorDB(got []float32, rate int, freq, amp float64) float64 {
	var sig, res float64
	lo, hi := len(got)/8, len(got)*7/8
	for i := lo; i < hi; i++ {
		want := amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))
		d := float64(got[i]) - want
		sig += want * want
		res += d * d
	}
	return 10 * math.Log10(res/sig)
}

// levelDB is the RMS of the middle of x relative to a full-scale sine's
// RMS with amplitude amp, in dB.
func levelDB(x []float32, amp float64) float64 {
	var e float64
	lo, hi := len(x)/8, len(x)*7/8
	for _, v := range x[lo:hi] {
		e += float64(v) * float64(v)
	}
	rms := math.Sqrt(e / float64(hi-lo))
	return 20 * math.Log10(rms/(amp/math.Sqrt2)+1e-300)
}

func TestResampleKeepsTones(t *testing.T) {
	for _, from := range commonRates {
		for _, to := range commonRates {
			low := min(from, to)
			// A low tone and one at 80% of the lower Nyquist frequency,
			// inside the flat passband.
			for _, f := range []float64{441, 0.4 * float64(low)} {
				t.Run(fmt.Sprintf("%d-%d-%.0fHz", from, to, f), func(t *testing.T) {
					in := tone(from, f, 0.5, from/2)
					out, err := dsp.Resample(in, from, to)
					require.NoError(t, err)
					require.Len(t, out, dsp.OutputLen(len(in), from, to))
					assert.Less(t, errorDB(out, to, f, 0.5), -80.0)
				})
			}
		}
	}
}

func TestResampleOddRatios(t *testing.T) {
	// 44101 and 16000 share no factor: the resampler interpolates between
	// filter phases instead of using an exact polyphase table.
	for _, pair := range [][2]int{{44100, 16000}, {16000, 44100}, {11025, 16000}, {44101, 16000}, {16000, 44101}, {7999, 8000}, {96000, 8000}, {192000, 44100}, {8000, 192000}} {
		from, to := pair[0], pair[1]
		t.Run(fmt.Sprintf("%d-%d", from, to), func(t *testing.T) {
			f := 0.3 * float64(min(from, to))
			in := tone(from, f, 0.7, from/4)
			out, err := dsp.Resample(in, from, to)
			require.NoError(t, err)
			require.Len(t, out, dsp.OutputLen(len(in), from, to))
			assert.Less(t, errorDB(out, to, f, 0.7), -80.0)
		})
	}
}

func TestResampleStopband(t *testing.T) {
	// Anything between the output Nyquist frequency and the input's must
	// vanish instead of folding into the band.
	for _, c := range []struct{ from, to int }{{48000, 16000}, {44100, 16000}, {24000, 8000}, {48000, 44100}} {
		for f := float64(c.to)/2 + 50; f < float64(c.from)/2; f += 731 {
			in := tone(c.from, f, 0.9, c.from/4)
			out, err := dsp.Resample(in, c.from, c.to)
			require.NoError(t, err)
			assert.Less(t, levelDB(out, 0.9), -80.0, "%d→%d, %.0f Hz", c.from, c.to, f)
		}
	}
	in := tone(48000, 10000, 0.9, 48000)
	out, err := dsp.Resample(in, 48000, 16000)
	require.NoError(t, err)
	assert.Less(t, levelDB(out, 0.9), -50.0, "10 kHz folding into 16 kHz audio")
}

func TestResampleChunkedEqualsOneShot(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, pair := range [][2]int{{48000, 16000}, {16000, 24000}, {44100, 16000}, {22050, 48000}, {44101, 16000}, {24000, 24000}} {
		from, to := pair[0], pair[1]
		in := make([]float32, from*3/2+17)
		for i := range in {
			in[i] = float32(rng.NormFloat64() * 0.2)
		}
		want, err := dsp.Resample(in, from, to)
		require.NoError(t, err)
		r, err := dsp.NewResampler(from, to)
		require.NoError(t, err)
		for round := range 2 { // Flush resets: the second stream must match too
			var got []float32
			for rest := in; len(rest) > 0; {
				n := min(len(rest), rng.IntN(700))
				got = r.Process(got, rest[:n])
				rest = rest[n:]
			}
			got = r.Flush(got)
			require.Equal(t, want, got, "%d→%d round %d", from, to, round)
		}
	}
}

func TestResampleRejectsAbsurdRates(t *testing.T) {
	for _, rate := range []int{-48000, -1, 0, 999, 384001, 1 << 40} {
		_, err := dsp.NewResampler(rate, 16000)
		require.ErrorIs(t, err, dsp.ErrRate, "from %d", rate)
		_, err = dsp.NewResampler(16000, rate)
		require.ErrorIs(t, err, dsp.ErrRate, "to %d", rate)
		_, err = dsp.Resample([]float32{1}, rate, 16000)
		require.ErrorIs(t, err, dsp.ErrRate)
	}
	require.NoError(t, dsp.CheckRate(dsp.MinRate))
	require.NoError(t, dsp.CheckRate(dsp.MaxRate))
}

func TestResampleEdgeCases(t *testing.T) {
	out, err := dsp.Resample(nil, 48000, 16000)
	require.NoError(t, err)
	assert.Empty(t, out)
	out, err = dsp.Resample([]float32{1}, 8000, 48000)
	require.NoError(t, err)
	assert.Len(t, out, 6)
	in := []float32{0.1, -0.2, 0.3}
	out, err = dsp.Resample(in, 16000, 16000)
	require.NoError(t, err)
	assert.Equal(t, in, out)
	// Extreme ratios still work and stay bounded.
	out, err = dsp.Resample(tone(384000, 300, 0.5, 38400), 384000, 1000)
	require.NoError(t, err)
	assert.Len(t, out, 100)
	assert.Less(t, errorDB(out, 1000, 300, 0.5), -40.0)
	r, err := dsp.NewResampler(48000, 16000)
	require.NoError(t, err)
	assert.Positive(t, r.Delay())
	from, to := r.Rates()
	assert.Equal(t, [2]int{48000, 16000}, [2]int{from, to})
}

func BenchmarkResample(b *testing.B) {
	for _, pair := range [][2]int{{48000, 16000}, {44100, 16000}, {24000, 16000}, {16000, 24000}, {24000, 48000}, {8000, 16000}, {44101, 16000}} {
		from, to := pair[0], pair[1]
		b.Run(fmt.Sprintf("%d-%d", from, to), func(b *testing.B) {
			in := tone(from, 440, 0.5, from) // one second
			r, err := dsp.NewResampler(from, to)
			require.NoError(b, err)
			out := make([]float32, 0, to+1)
			chunk := from / 50 // 20 ms chunks, as a realtime stream sends
			b.ResetTimer()
			for b.Loop() {
				out = out[:0]
				for i := 0; i < len(in); i += chunk {
					out = r.Process(out, in[i:min(i+chunk, len(in))])
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
		})
	}
}
