package audio_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/audio"
	"github.com/ominix/ominix-api/pipeline"
)

// Integer PCM WAV with real sizes goes through go-audio/wav; streamed,
// RF64, float and G.711 files go through the package's own decoder.
func TestWAVDecoderChoice(t *testing.T) {
	ref := reference(t)
	s := ref.Samples[:1600]
	streamedEnc := encode(t, pipeline.FormatWAV, 16000, pipeline.Audio{Rate: 16000, Samples: s}, 1)
	riffUnknown := buildWAV(wavSpec{tag: 1, bits: 16, channels: 1, rate: 16000}, s)
	binary.LittleEndian.PutUint32(riffUnknown[4:], 0xFFFFFFFF)
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"flite fixture", fixture(t, "speech.wav"), audio.WAVGoAudio},
		{"pcm 8", buildWAV(wavSpec{tag: 1, bits: 8, channels: 1, rate: 16000}, s), audio.WAVGoAudio},
		{"pcm 16 stereo extra chunks", buildWAV(wavSpec{tag: 1, bits: 16, channels: 2, rate: 16000, extra: true}, s), audio.WAVGoAudio},
		{"pcm 24", buildWAV(wavSpec{tag: 1, bits: 24, channels: 1, rate: 16000}, s), audio.WAVGoAudio},
		{"pcm 32", buildWAV(wavSpec{tag: 1, bits: 32, channels: 1, rate: 16000}, s), audio.WAVGoAudio},
		{"extensible pcm 24 6ch", buildWAV(wavSpec{tag: 1, bits: 24, channels: 6, rate: 16000, extensible: true}, s), audio.WAVGoAudio},
		{"streamed data size", buildWAV(wavSpec{tag: 1, bits: 16, channels: 1, rate: 16000, dataSize: 0xFFFFFFFF}, s), audio.WAVOwn},
		{"streamed riff size", riffUnknown, audio.WAVOwn},
		{"our streamed encoder", streamedEnc, audio.WAVOwn},
		{"rf64", buildWAV(wavSpec{tag: 1, bits: 16, channels: 1, rate: 16000, rf64: true}, s), audio.WAVOwn},
		{"float 32", buildWAV(wavSpec{tag: 3, bits: 32, channels: 1, rate: 16000}, s), audio.WAVOwn},
		{"float 64", buildWAV(wavSpec{tag: 3, bits: 64, channels: 2, rate: 16000}, s), audio.WAVOwn},
		{"extensible float", buildWAV(wavSpec{tag: 3, bits: 32, channels: 2, rate: 16000, extensible: true}, s), audio.WAVOwn},
		{"a-law", buildWAV(wavSpec{tag: 6, bits: 8, channels: 1, rate: 16000}, s), audio.WAVOwn},
		{"μ-law", buildWAV(wavSpec{tag: 7, bits: 8, channels: 1, rate: 16000}, s), audio.WAVOwn},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := audio.WAVDecoderFor(c.data)
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
			a, err := codecs.Decode(c.data, pipeline.DecodeOptions{})
			require.NoError(t, err)
			if c.name != "flite fixture" {
				assert.Equal(t, len(s), len(a.Samples))
			}
		})
	}
}

// sox's integer WAVs (plain and WAVE_FORMAT_EXTENSIBLE) take the
// go-audio/wav path, its float and G.711 ones ours.
func TestWAVDecoderChoiceSox(t *testing.T) {
	if _, err := exec.LookPath("sox"); err != nil {
		t.Skip("sox not installed")
	}
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-b", "16"}, audio.WAVGoAudio},
		{[]string{"-c", "2", "-b", "24"}, audio.WAVGoAudio},
		{[]string{"-c", "6", "-b", "16"}, audio.WAVGoAudio},
		{[]string{"-e", "floating-point", "-b", "32"}, audio.WAVOwn},
		{[]string{"-e", "u-law"}, audio.WAVOwn},
	} {
		out := filepath.Join(dir, "x.wav")
		args := append(append([]string{"-D", filepath.Join("testdata", "speech.wav")}, c.args...), out)
		b, err := exec.Command("sox", args...).CombinedOutput()
		require.NoError(t, err, string(b))
		data, err := os.ReadFile(out)
		require.NoError(t, err)
		got, err := audio.WAVDecoderFor(data)
		require.NoError(t, err)
		assert.Equal(t, c.want, got, "%v", c.args)
	}
}

// randomPCMWAV builds an integer PCM WAV whose data bytes are random, so
// every sample value (the extremes included) occurs, and its streamed twin:
// the same bytes with a 0xFFFFFFFF data size.
func randomPCMWAV(spec wavSpec, frames int, seed uint64) (plain, streamed []byte) {
	plain = buildWAV(spec, make([]float32, frames))
	rng := rand.New(rand.NewPCG(seed, 3))
	data := plain[len(plain)-frames*spec.channels*spec.bits/8:]
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for i := 0; i < 8 && i < len(data); i++ { // make sure the extremes occur
		data[i] = []byte{0x00, 0xFF, 0x80, 0x7F}[i%4]
	}
	spec.dataSize = 0xFFFFFFFF
	streamed = buildWAV(spec, make([]float32, frames))
	copy(streamed[len(streamed)-len(data):], data)
	return plain, streamed
}

func bits(s []float32) []uint32 {
	out := make([]uint32, len(s))
	for i, v := range s {
		out[i] = math.Float32bits(v)
	}
	return out
}

// The go-audio/wav path and ours decode the same PCM content to the same
// float32 bits: through Decode on the plain file (go-audio/wav), Decode on
// its streamed twin (ours), and our decoder forced on the plain file.
func TestWAVDecodersAgreeBitExact(t *testing.T) {
	for _, spec := range []wavSpec{
		{tag: 1, bits: 8, channels: 1, rate: 16000},
		{tag: 1, bits: 8, channels: 2, rate: 8000},
		{tag: 1, bits: 16, channels: 1, rate: 16000},
		{tag: 1, bits: 16, channels: 2, rate: 44100, extra: true},
		{tag: 1, bits: 24, channels: 1, rate: 48000},
		{tag: 1, bits: 24, channels: 6, rate: 48000, extensible: true},
		{tag: 1, bits: 32, channels: 1, rate: 96000},
		{tag: 1, bits: 32, channels: 3, rate: 22050, extensible: true},
	} {
		for _, frames := range []int{1, 4095, 4096, 4097, 3*4096 + 17} {
			name := fmt.Sprintf("%dbit-%dch-ext%v-%dframes", spec.bits, spec.channels, spec.extensible, frames)
			t.Run(name, func(t *testing.T) {
				plain, streamed := randomPCMWAV(spec, frames, uint64(frames*spec.bits))
				via, err := audio.WAVDecoderFor(plain)
				require.NoError(t, err)
				require.Equal(t, audio.WAVGoAudio, via)
				via, err = audio.WAVDecoderFor(streamed)
				require.NoError(t, err)
				require.Equal(t, audio.WAVOwn, via)

				goAudio, err := codecs.Decode(plain, pipeline.DecodeOptions{})
				require.NoError(t, err)
				ours, err := codecs.Decode(streamed, pipeline.DecodeOptions{})
				require.NoError(t, err)
				forced, err := audio.DecodeWAVWith(audio.WAVOwn, plain, pipeline.DecodeOptions{})
				require.NoError(t, err)

				require.Equal(t, frames, len(goAudio.Samples))
				assert.Equal(t, spec.rate, goAudio.Rate)
				assert.Equal(t, bits(ours.Samples), bits(goAudio.Samples), "streamed twin")
				assert.Equal(t, bits(forced.Samples), bits(goAudio.Samples), "forced own decoder")
				assert.Equal(t, ours.Rate, goAudio.Rate)
			})
		}
	}
}

// go-audio/wav only ever reads a rebuilt header and the validated data
// bytes: chunks it would mis-handle (an odd-sized data chunk with its pad
// byte, a partial last frame, a fmt extension, a trailing chunk declaring
// 4 GiB) do not reach it, and nothing is allocated from their sizes.
func TestWAVGoAudioSeesOnlyValidatedBytes(t *testing.T) {
	ref := reference(t)
	s := ref.Samples[:1601]
	want, err := codecs.Decode(buildWAV(wavSpec{tag: 1, bits: 8, channels: 1, rate: 16000}, s), pipeline.DecodeOptions{})
	require.NoError(t, err)

	// 8-bit mono, 1601 frames: an odd data chunk padded to even, then a
	// LIST chunk that claims 0xFFFFFFF0 bytes.
	odd := buildWAV(wavSpec{tag: 1, bits: 8, channels: 1, rate: 16000}, s)
	odd = append(odd, 0) // pad byte
	odd = append(odd, "LIST"...)
	odd = binary.LittleEndian.AppendUint32(odd, 0xFFFFFFF0)
	odd = append(odd, "INFO"...)

	// 16-bit stereo with a partial last frame inside the data chunk and a
	// fmt chunk carrying an 18-byte extension.
	ext := buildWAV(wavSpec{tag: 1, bits: 16, channels: 2, rate: 16000}, s)
	ext = withFmtExtension(t, ext, bytes.Repeat([]byte{0xAB}, 18))
	ext = append(ext, 1, 2) // half a frame
	dataSizeAt := bytes.Index(ext, []byte("data")) + 4
	binary.LittleEndian.PutUint32(ext[dataSizeAt:], binary.LittleEndian.Uint32(ext[dataSizeAt:])+2)
	binary.LittleEndian.PutUint32(ext[4:], uint32(len(ext)-8))

	for name, data := range map[string][]byte{"odd data and lying LIST": odd, "fmt extension and partial frame": ext} {
		t.Run(name, func(t *testing.T) {
			via, err := audio.WAVDecoderFor(data)
			require.NoError(t, err)
			require.Equal(t, audio.WAVGoAudio, via)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			a, err := codecs.Decode(data, pipeline.DecodeOptions{})
			runtime.ReadMemStats(&after)
			require.NoError(t, err)
			require.Equal(t, len(s), len(a.Samples))
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20))
			forced, err := audio.DecodeWAVWith(audio.WAVOwn, data, pipeline.DecodeOptions{})
			require.NoError(t, err)
			assert.Equal(t, bits(forced.Samples), bits(a.Samples))
			if name == "odd data and lying LIST" {
				assert.Equal(t, bits(want.Samples), bits(a.Samples))
			}
		})
	}
}

// withFmtExtension appends ext to the fmt chunk of a buildWAV file without
// extra chunks (fmt at offset 12).
func withFmtExtension(t testing.TB, wav, ext []byte) []byte {
	t.Helper()
	require.Equal(t, "fmt ", string(wav[12:16]))
	size := binary.LittleEndian.Uint32(wav[16:])
	end := 20 + int(size)
	out := append(bytes.Clone(wav[:end]), ext...)
	binary.LittleEndian.PutUint32(out[16:], size+uint32(len(ext)))
	out = append(out, wav[end:]...)
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

// MaxSeconds holds on the go-audio/wav path.
func TestWAVGoAudioMaxSeconds(t *testing.T) {
	plain, _ := randomPCMWAV(wavSpec{tag: 1, bits: 16, channels: 2, rate: 8000}, 8000*3, 5)
	_, err := audio.DecodeWAVWith(audio.WAVGoAudio, plain, pipeline.DecodeOptions{MaxSeconds: 2})
	requireKind(t, err, pipeline.KindTooLarge)
	a, err := audio.DecodeWAVWith(audio.WAVGoAudio, plain, pipeline.DecodeOptions{MaxSeconds: 3})
	require.NoError(t, err)
	assert.Equal(t, 8000*3, len(a.Samples))
}

// FuzzWAVDecodersAgree: wherever Decode would pick go-audio/wav, our own
// decoder gives the same result, error or samples, to the bit, and
// go-audio/wav never panics.
func FuzzWAVDecodersAgree(f *testing.F) {
	f.Add(fixture(f, "speech.wav")[:4096])
	for _, spec := range []wavSpec{
		{tag: 1, bits: 8, channels: 1, rate: 16000},
		{tag: 1, bits: 16, channels: 2, rate: 16000, extra: true},
		{tag: 1, bits: 24, channels: 3, rate: 8000, extensible: true},
		{tag: 1, bits: 32, channels: 1, rate: 48000},
	} {
		plain, _ := randomPCMWAV(spec, 37, 1)
		f.Add(plain)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if via, err := audio.WAVDecoderFor(data); err != nil || via != audio.WAVGoAudio {
			return
		}
		opts := pipeline.DecodeOptions{MaxSeconds: 20}
		got, errGot := audio.DecodeWAVWith(audio.WAVGoAudio, data, opts)
		want, errWant := audio.DecodeWAVWith(audio.WAVOwn, data, opts)
		if (errGot == nil) != (errWant == nil) {
			t.Fatalf("go-audio/wav: %v; own: %v", errGot, errWant)
		}
		if errGot != nil {
			var a, b *pipeline.Error
			if !errors.As(errGot, &a) || !errors.As(errWant, &b) || a.Kind != b.Kind || a.Message != b.Message {
				t.Fatalf("go-audio/wav: %v; own: %v", errGot, errWant)
			}
			return
		}
		if got.Rate != want.Rate || !slicesEqualBits(got.Samples, want.Samples) {
			t.Fatalf("decoders disagree: %d samples at %d Hz vs %d at %d Hz", len(got.Samples), got.Rate, len(want.Samples), want.Rate)
		}
	})
}

func slicesEqualBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// BenchmarkDecodeWAVPaths decodes the same integer PCM files with
// go-audio/wav (what Decode uses for them) and with our own decoder, in
// one run, and reports x_realtime.
func BenchmarkDecodeWAVPaths(b *testing.B) {
	stereo24, _ := randomPCMWAV(wavSpec{tag: 1, bits: 24, channels: 2, rate: 48000}, 48000*3, 9)
	files := map[string][]byte{"speech.wav": fixture(b, "speech.wav"), "stereo24-48k": stereo24}
	for _, name := range []string{"speech.wav", "stereo24-48k"} {
		for _, dec := range []string{audio.WAVGoAudio, audio.WAVOwn} {
			b.Run(name+"/"+strings.ReplaceAll(dec, "/", "-"), func(b *testing.B) {
				data := files[name]
				a, err := audio.DecodeWAVWith(dec, data, pipeline.DecodeOptions{})
				require.NoError(b, err)
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					if _, err := audio.DecodeWAVWith(dec, data, pipeline.DecodeOptions{}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(a.Seconds()*float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
			})
		}
	}
}
