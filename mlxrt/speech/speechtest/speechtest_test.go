package speechtest_test

import (
	"bytes"
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/speech/speechtest"
	"github.com/ominix/ominix-api/pipeline"
)

func TestWER(t *testing.T) {
	for _, c := range []struct {
		ref, hyp string
		want     float64
	}{
		{"The quick brown fox.", "the quick brown fox", 0},
		{"Don't stop, now!", "don't stop now", 0},
		{"one two three four", "one too three four", 0.25},      // substitution
		{"one two three four", "one three four", 0.25},          // deletion
		{"one two three four", "one two three four five", 0.25}, // insertion
		{"one two", "", 1},
		{"", "", 0},
		{"", "noise", 1},
		{"a b c d", "x y z w v u", 1.5},
	} {
		assert.InDelta(t, c.want, speechtest.WER(c.ref, c.hyp), 1e-9, "%q vs %q", c.ref, c.hyp)
	}
	assert.Equal(t, []string{"it's", "a", "test", "x"}, speechtest.Words("  It's a TEST -- 'x' "))
}

func TestWAVRoundTrip(t *testing.T) {
	a := pipeline.Audio{Rate: 16000, Samples: []float32{0, 0.5, -0.5, 1, -1, 2, float32(math.NaN())}}
	var buf bytes.Buffer
	require.NoError(t, speechtest.WriteWAV(&buf, a))
	got, err := speechtest.ReadWAV(buf.Bytes())
	require.NoError(t, err)
	assert.Equal(t, 16000, got.Rate)
	want := []float32{0, 0.5, -0.5, 1, -1, 1, 0}
	require.Len(t, got.Samples, len(want))
	for i := range want {
		assert.InDelta(t, want[i], got.Samples[i], 1e-4)
	}
}

func TestReadWAVRejects(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, speechtest.WriteWAV(&buf, pipeline.Audio{Rate: 16000, Samples: make([]float32, 10)}))
	good := buf.Bytes()
	for name, b := range map[string][]byte{
		"empty":     nil,
		"not riff":  []byte("RIFX....WAVEfmt "),
		"truncated": good[:50],
		"no data":   good[:44-8],
		"8-bit":     patch(good, 34, 8),
		"float":     patch(good, 20, 3),
		"no chans":  patch(good, 22, 0),
	} {
		_, err := speechtest.ReadWAV(b)
		assert.Error(t, err, name)
	}
}

func patch(b []byte, off int, v uint16) []byte {
	c := bytes.Clone(b)
	c[off], c[off+1] = byte(v), byte(v>>8)
	return c
}

func TestReadWAVDebianRecording(t *testing.T) {
	b, err := os.ReadFile("/usr/share/sounds/alsa/Front_Center.wav")
	if err != nil {
		speechtest.Missing(t, "alsa-utils sounds are not installed")
	}
	a, err := speechtest.ReadWAV(b)
	require.NoError(t, err)
	assert.Equal(t, 48000, a.Rate)
	assert.InDelta(t, 1.43, a.Seconds(), 0.01)
}

func FuzzReadWAV(f *testing.F) {
	var buf bytes.Buffer
	_ = speechtest.WriteWAV(&buf, pipeline.Audio{Rate: 8000, Samples: []float32{0.1, -0.2, 0.3}})
	f.Add(buf.Bytes())
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := speechtest.ReadWAV(b)
		if err != nil {
			return
		}
		if a.Rate < 1000 || len(a.Samples) > len(b) {
			t.Fatalf("accepted rate %d with %d samples from %d bytes", a.Rate, len(a.Samples), len(b))
		}
	})
}

func FuzzWER(f *testing.F) {
	f.Add("the quick brown fox", "the quick brown box")
	f.Add("", "x")
	f.Fuzz(func(t *testing.T, ref, hyp string) {
		w := speechtest.WER(ref, hyp)
		if w < 0 || math.IsNaN(w) {
			t.Fatalf("WER %v", w)
		}
		if speechtest.WER(ref, ref) != 0 {
			t.Fatalf("WER(ref, ref) != 0 for %q", ref)
		}
	})
}
