package dsp_test

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline/dsp"
)

func TestS16LERoundTripIsLossless(t *testing.T) {
	var raw []byte
	for x := -32768; x <= 32767; x++ {
		raw = binary.LittleEndian.AppendUint16(raw, uint16(int16(x)))
	}
	f := dsp.AppendS16LE(nil, raw)
	require.Len(t, f, 65536)
	assert.Equal(t, float32(-1), f[0])
	assert.Equal(t, float32(0), f[32768])
	assert.Equal(t, raw, dsp.AppendFloat32AsS16LE(nil, f))
}

func TestS16LEEdges(t *testing.T) {
	assert.Equal(t, []float32{0.5}, dsp.AppendS16LE(nil, []byte{0x00, 0x40, 0x7F}), "odd trailing byte ignored")
	assert.Empty(t, dsp.AppendS16LE(nil, []byte{1}))
	out := dsp.AppendFloat32AsS16LE(nil, []float32{2, -2, float32(math.NaN()), 1, -1, 0.5 / 32768, -0.5 / 32768})
	want := []int16{32767, -32768, 0, 32767, -32768, 1, -1}
	for i, w := range want {
		assert.Equal(t, w, int16(binary.LittleEndian.Uint16(out[2*i:])), "sample %d", i)
	}
	assert.Equal(t, []float32{1, 0.5}, dsp.AppendS16LE([]float32{1}, []byte{0, 0x40}), "appends")
}

func TestDownmix(t *testing.T) {
	assert.Equal(t, []float32{0.5, 0}, dsp.Downmix(nil, []float32{1, 0, 0.5, -0.5, 9}, 2))
	assert.Equal(t, []float32{1, 2}, dsp.Downmix(nil, []float32{1, 2}, 1))
	assert.Equal(t, []float32{2}, dsp.Downmix(nil, []float32{1, 2, 3}, 3))
}

func TestG711StreamHelpers(t *testing.T) {
	in := []float32{0, 0.25, -0.25, 0.9, -0.9}
	mu := dsp.AppendMuLaw(nil, dsp.AppendFloat32AsMuLaw(nil, in))
	a := dsp.AppendALaw(nil, dsp.AppendFloat32AsALaw(nil, in))
	for i, v := range in {
		assert.InDelta(t, v, mu[i], 0.02, "μ-law %d", i)
		assert.InDelta(t, v, a[i], 0.02, "A-law %d", i)
	}
}

func BenchmarkVAD(b *testing.B) {
	audio, _ := synth(24000, 0.001, segment{1000, 0}, segment{2000, 0.2}, segment{1000, 0})
	v, err := dsp.NewVAD(24000, nil)
	require.NoError(b, err)
	b.ResetTimer()
	for b.Loop() {
		for i := 0; i < len(audio); i += 480 {
			v.Feed(audio[i:min(i+480, len(audio))])
		}
	}
	b.ReportMetric(4*float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
}

func BenchmarkDecodeS16LE(b *testing.B) {
	raw := make([]byte, 2*24000)
	out := make([]float32, 0, 24000)
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		out = dsp.AppendS16LE(out[:0], raw)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
}
