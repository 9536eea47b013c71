package audio_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/dsp"
)

// TestDecodeFixtures decodes files made by other tools (see
// testdata/gen-fixtures.sh) and compares them with the reference.
func TestDecodeFixtures(t *testing.T) {
	ref := reference(t)
	for _, c := range []struct {
		file    string
		rate    int
		minSec  float64
		maxSec  float64
		minSim  float64
		opus    bool
		comment string
	}{
		{"speech.wav", 16000, 2.67, 2.67, 1, false, "flite"},
		{"speech.flac", 16000, 2.67, 2.67, 1, false, "flac CLI, lossless"},
		{"speech16k.mp3", 16000, 2.67, 2.67 + 0.15, 0.99, false, "LAME via sox: MPEG-2 Layer III mono"},
		{"speech44k.mp3", 44100, 2.67, 2.67 + 0.15, 0.99, false, "LAME via sox: MPEG-1 Layer III stereo"},
		{"speech.opus", 16000, 2.67, 2.67, 0.98, true, "opusenc: pre-skip and end trimming exact"},
		{"speech-chrome.webm", 48000, 2.3, 2.6, 0.95, true, "Chromium MediaRecorder recording the reference as a microphone"},
	} {
		t.Run(c.file, func(t *testing.T) {
			a, err := codecs.Decode(fixture(t, c.file), pipeline.DecodeOptions{})
			if c.opus && !haveOpus() {
				pe := requireKind(t, err, pipeline.KindInvalid)
				assert.Contains(t, pe.Message, "libopus-dev")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.rate, a.Rate)
			assert.GreaterOrEqual(t, a.Seconds(), c.minSec-0.001)
			assert.LessOrEqual(t, a.Seconds(), c.maxSec+0.001)
			sim, lag := similarity(ref.Samples, to16k(t, a))
			assert.GreaterOrEqual(t, sim, c.minSim, "%s (lag %d)", c.comment, lag)
			if c.minSim == 1 {
				assert.Equal(t, ref.Samples, a.Samples, "lossless")
			}
		})
	}
}

// The human recordings Debian ships in alsa-utils must decode.
func TestDecodeALSASounds(t *testing.T) {
	files, _ := filepath.Glob("/usr/share/sounds/alsa/*.wav")
	if len(files) == 0 {
		t.Skip("alsa-utils sounds not installed")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		a, err := codecs.Decode(b, pipeline.DecodeOptions{})
		require.NoError(t, err, f)
		assert.Equal(t, 48000, a.Rate, f)
		assert.Greater(t, a.Seconds(), 1.0, f)
		assert.Greater(t, rms(a.Samples), 0.001, f)
	}
}

// wavSpec describes a WAV file built in the test.
type wavSpec struct {
	tag        uint16 // 1 PCM, 3 float, 6 A-law, 7 μ-law
	bits       int
	channels   int
	rate       int
	extensible bool
	rf64       bool
	dataSize   uint32 // 0: the real size
	extra      bool   // a LIST chunk before fmt, and an odd-sized junk chunk
}

// buildWAV encodes mono samples (copied to every channel) per spec.
func buildWAV(s wavSpec, samples []float32) []byte {
	width := s.bits / 8
	var data []byte
	for _, v := range samples {
		for range s.channels {
			data = appendSample(data, s, v)
		}
	}
	fmtc := binary.LittleEndian.AppendUint16(nil, s.tag)
	if s.extensible {
		fmtc = binary.LittleEndian.AppendUint16(nil, 0xFFFE)
	}
	fmtc = binary.LittleEndian.AppendUint16(fmtc, uint16(s.channels))
	fmtc = binary.LittleEndian.AppendUint32(fmtc, uint32(s.rate))
	fmtc = binary.LittleEndian.AppendUint32(fmtc, uint32(s.rate*s.channels*width))
	fmtc = binary.LittleEndian.AppendUint16(fmtc, uint16(s.channels*width))
	fmtc = binary.LittleEndian.AppendUint16(fmtc, uint16(s.bits))
	if s.extensible {
		fmtc = binary.LittleEndian.AppendUint16(fmtc, 22)
		fmtc = binary.LittleEndian.AppendUint16(fmtc, uint16(s.bits))
		fmtc = binary.LittleEndian.AppendUint32(fmtc, 0) // channel mask
		fmtc = binary.LittleEndian.AppendUint16(fmtc, s.tag)
		fmtc = append(fmtc, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71)
	}
	out := []byte("RIFF\x00\x00\x00\x00WAVE")
	if s.rf64 {
		out = []byte("RF64\xff\xff\xff\xffWAVE")
		ds := binary.LittleEndian.AppendUint64(nil, uint64(len(data)+36))
		ds = binary.LittleEndian.AppendUint64(ds, uint64(len(data)))
		ds = binary.LittleEndian.AppendUint64(ds, uint64(len(samples)))
		ds = binary.LittleEndian.AppendUint32(ds, 0)
		out = appendChunk(out, "ds64", ds)
	}
	if s.extra {
		out = appendChunk(out, "LIST", []byte("INFOISFT\x04\x00\x00\x00test"))
	}
	out = appendChunk(out, "fmt ", fmtc)
	if s.extra {
		out = appendChunk(out, "junk", []byte{1, 2, 3})
	}
	size := uint32(len(data))
	switch {
	case s.rf64:
		size = 0xFFFFFFFF
	case s.dataSize != 0:
		size = s.dataSize
	}
	out = append(out, "data"...)
	out = binary.LittleEndian.AppendUint32(out, size)
	out = append(out, data...)
	if !s.rf64 {
		binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	}
	return out
}

func appendChunk(b []byte, id string, body []byte) []byte {
	b = append(b, id...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
	b = append(b, body...)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

func appendSample(b []byte, s wavSpec, v float32) []byte {
	switch {
	case s.tag == 3 && s.bits == 32:
		return binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	case s.tag == 3 && s.bits == 64:
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(float64(v)))
	case s.tag == 6:
		return dsp.AppendFloat32AsALaw(b, []float32{v})
	case s.tag == 7:
		return dsp.AppendFloat32AsMuLaw(b, []float32{v})
	case s.bits == 8:
		return append(b, byte(int(math.Round(float64(v)*127))+128))
	case s.bits == 16:
		return binary.LittleEndian.AppendUint16(b, uint16(dsp.FloatToS16(v)))
	case s.bits == 24:
		x := int32(math.Round(float64(v) * (1<<23 - 1)))
		return append(b, byte(x), byte(x>>8), byte(x>>16))
	default:
		return binary.LittleEndian.AppendUint32(b, uint32(int32(math.Round(float64(v)*(1<<31-1)))))
	}
}

func TestDecodeWAVVariants(t *testing.T) {
	ref := reference(t)
	for _, c := range []struct {
		spec wavSpec
		tol  float64 // largest sample error
	}{
		{wavSpec{tag: 1, bits: 8, channels: 1, rate: 16000}, 1.0 / 64},
		{wavSpec{tag: 1, bits: 16, channels: 2, rate: 16000, extra: true}, 1.0 / 32768},
		{wavSpec{tag: 1, bits: 24, channels: 1, rate: 16000}, 1e-6},
		{wavSpec{tag: 1, bits: 32, channels: 1, rate: 16000}, 1e-6},
		{wavSpec{tag: 3, bits: 32, channels: 1, rate: 16000}, 0},
		{wavSpec{tag: 3, bits: 64, channels: 2, rate: 16000}, 0},
		{wavSpec{tag: 6, bits: 8, channels: 1, rate: 16000}, 0.04},
		{wavSpec{tag: 7, bits: 8, channels: 1, rate: 16000}, 0.04},
		{wavSpec{tag: 1, bits: 24, channels: 6, rate: 16000, extensible: true}, 1e-6},
		{wavSpec{tag: 3, bits: 32, channels: 2, rate: 16000, extensible: true}, 0},
		{wavSpec{tag: 1, bits: 16, channels: 1, rate: 16000, rf64: true}, 1.0 / 32768},
		{wavSpec{tag: 1, bits: 16, channels: 1, rate: 16000, dataSize: 0xFFFFFFFF}, 1.0 / 32768},
	} {
		name := fmt.Sprintf("tag%d-%dbit-%dch-ext%v-rf64%v-size%x", c.spec.tag, c.spec.bits, c.spec.channels, c.spec.extensible, c.spec.rf64, c.spec.dataSize)
		t.Run(name, func(t *testing.T) {
			a, err := codecs.Decode(buildWAV(c.spec, ref.Samples), pipeline.DecodeOptions{})
			require.NoError(t, err)
			require.Equal(t, c.spec.rate, a.Rate)
			require.Len(t, a.Samples, len(ref.Samples))
			worst := 0.0
			for i, v := range a.Samples {
				worst = max(worst, math.Abs(float64(v-ref.Samples[i])))
			}
			assert.LessOrEqual(t, worst, c.tol+1e-7)
		})
	}
}

// sox writes WAVs other tools make: WAVE_FORMAT_EXTENSIBLE for more than
// two channels or more than 16 bits, float, G.711, other rates.
func TestDecodeSoxWAVs(t *testing.T) {
	if _, err := exec.LookPath("sox"); err != nil {
		t.Skip("sox not installed")
	}
	ref := reference(t)
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		rate int
	}{
		{[]string{"-r", "44100", "-c", "2", "-b", "24"}, 44100},
		{[]string{"-r", "48000", "-c", "6", "-b", "16"}, 48000},
		{[]string{"-r", "22050", "-e", "floating-point", "-b", "32"}, 22050},
		{[]string{"-r", "8000", "-e", "u-law"}, 8000},
		{[]string{"-r", "8000", "-e", "a-law"}, 8000},
		{[]string{"-r", "11025", "-b", "8"}, 11025},
		{[]string{"-r", "96000", "-b", "32"}, 96000},
		{[]string{"-r", "192000", "-c", "2"}, 192000},
	} {
		t.Run(fmt.Sprint(c.args), func(t *testing.T) {
			out := filepath.Join(dir, "x.wav")
			args := append([]string{"-D", filepath.Join("testdata", "speech.wav")}, c.args...)
			b, err := exec.Command("sox", append(args, out)...).CombinedOutput()
			require.NoError(t, err, string(b))
			data, err := os.ReadFile(out)
			require.NoError(t, err)
			a, err := codecs.Decode(data, pipeline.DecodeOptions{})
			require.NoError(t, err)
			assert.Equal(t, c.rate, a.Rate)
			assert.InDelta(t, ref.Seconds(), a.Seconds(), 0.01)
			sim, _ := similarity(ref.Samples, to16k(t, a))
			assert.Greater(t, sim, 0.97)
		})
	}
}

func TestDecodeMaxSeconds(t *testing.T) {
	files := []string{"speech.wav", "speech.flac", "speech16k.mp3", "speech44k.mp3"}
	if haveOpus() {
		files = append(files, "speech.opus", "speech-chrome.webm")
	}
	for _, f := range files {
		data := fixture(t, f)
		_, err := codecs.Decode(data, pipeline.DecodeOptions{MaxSeconds: 1})
		pe := requireKind(t, err, pipeline.KindTooLarge)
		assert.Contains(t, pe.Message, "longer than the 1 second limit", f)
		a, err := codecs.Decode(data, pipeline.DecodeOptions{MaxSeconds: 3})
		require.NoError(t, err, f)
		assert.LessOrEqual(t, a.Seconds(), 3.0)
	}
	// A header that announces hours of audio fails before decoding.
	ref := reference(t)
	long := buildWAV(wavSpec{tag: 1, bits: 16, channels: 1, rate: 16000}, ref.Samples)
	_, err := codecs.Decode(long, pipeline.DecodeOptions{MaxSeconds: 2.5})
	requireKind(t, err, pipeline.KindTooLarge)
}

// stereoWAV is a PCM WAV of two different channels at bits per sample.
func stereoWAV(rate, bits int, left, right []float32) []byte {
	s := wavSpec{tag: 1, bits: bits, channels: 2, rate: rate}
	var data []byte
	for i := range left {
		data = appendSample(data, s, left[i])
		data = appendSample(data, s, right[i])
	}
	fmtc := binary.LittleEndian.AppendUint16(nil, 1)
	fmtc = binary.LittleEndian.AppendUint16(fmtc, 2)
	fmtc = binary.LittleEndian.AppendUint32(fmtc, uint32(rate))
	fmtc = binary.LittleEndian.AppendUint32(fmtc, uint32(rate*2*bits/8))
	fmtc = binary.LittleEndian.AppendUint16(fmtc, uint16(2*bits/8))
	fmtc = binary.LittleEndian.AppendUint16(fmtc, uint16(bits))
	out := appendChunk([]byte("RIFF\x00\x00\x00\x00WAVE"), "fmt ", fmtc)
	out = appendChunk(out, "data", data)
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

// FLAC as recorders and music tools write it: stereo at 44.1 kHz with 24
// bits and at 48 kHz with 16, made by the reference encoder (the flac
// CLI), whose stereo decorrelation (left/side, right/side, mid/side) is
// chosen per frame. The two channels differ (the right one is the left
// at half level, 3 ms late), so a decoder that undid the decorrelation
// wrongly would not match the WAV the FLAC was made from, nor the mean
// of the channels.
func TestDecodeFLACStereo(t *testing.T) {
	if _, err := exec.LookPath("flac"); err != nil {
		t.Skip("the flac CLI is not installed (apt-get install flac)")
	}
	ref := reference(t)
	dir := t.TempDir()
	for _, c := range []struct {
		rate, bits int
		args       []string
	}{
		{44100, 24, []string{"--best"}},
		{48000, 16, []string{"--best"}},
		{48000, 24, []string{"-5", "--no-mid-side"}},
		{44100, 16, []string{"-0"}},
	} {
		t.Run(fmt.Sprintf("%dHz-%dbit%v", c.rate, c.bits, c.args), func(t *testing.T) {
			left, err := dsp.Resample(ref.Samples, ref.Rate, c.rate)
			require.NoError(t, err)
			delay := c.rate * 3 / 1000
			right := make([]float32, len(left))
			for i := delay; i < len(right); i++ {
				right[i] = 0.5 * left[i-delay]
			}
			wav := stereoWAV(c.rate, c.bits, left, right)
			in, out := filepath.Join(dir, "in.wav"), filepath.Join(dir, "out.flac")
			require.NoError(t, os.WriteFile(in, wav, 0o600))
			b, err := exec.Command("flac", append([]string{"-s", "-f", "-o", out}, append(c.args, in)...)...).CombinedOutput()
			require.NoError(t, err, string(b))
			data, err := os.ReadFile(out)
			require.NoError(t, err)

			fromFLAC, err := codecs.Decode(data, pipeline.DecodeOptions{})
			require.NoError(t, err)
			fromWAV, err := codecs.Decode(wav, pipeline.DecodeOptions{})
			require.NoError(t, err)
			assert.Equal(t, c.rate, fromFLAC.Rate)
			require.Len(t, fromFLAC.Samples, len(left))
			worst := 0.0
			for i, v := range fromFLAC.Samples {
				worst = max(worst, math.Abs(float64(v-fromWAV.Samples[i])))
			}
			assert.LessOrEqual(t, worst, 1e-6, "lossless: the FLAC decodes to the WAV's samples")
			// And both are the mean of the channels, to the quantization step.
			step := 1 / float64(int(1)<<(c.bits-1))
			worst = 0
			for i, v := range fromFLAC.Samples {
				worst = max(worst, math.Abs(float64(v)-float64(left[i]+right[i])/2))
			}
			assert.LessOrEqual(t, worst, step, "the mono mix")
		})
	}
}
