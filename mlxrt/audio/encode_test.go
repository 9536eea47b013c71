package audio_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	gowav "github.com/go-audio/wav"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/dsp"
)

// encode writes a through a new encoder in random chunks, as a synthesizer
// streams clauses, and returns the output.
func encode(t testing.TB, format pipeline.AudioFormat, rate int, a pipeline.Audio, seed uint64) []byte {
	t.Helper()
	var out bytes.Buffer
	enc, err := codecs.NewEncoder(&out, format, rate)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(seed, 7))
	for rest := a.Samples; len(rest) > 0; {
		n := min(len(rest), 1+rng.IntN(a.Rate/2))
		require.NoError(t, enc.Write(pipeline.Audio{Rate: a.Rate, Samples: rest[:n]}))
		rest = rest[n:]
	}
	require.NoError(t, enc.Close())
	return out.Bytes()
}

// decodeOutput decodes an encoder's output (raw PCM needs its rate).
func decodeOutput(t testing.TB, format pipeline.AudioFormat, rate int, b []byte) pipeline.Audio {
	t.Helper()
	if format == pipeline.FormatPCM {
		require.Zero(t, len(b)%2)
		return pipeline.Audio{Rate: rate, Samples: dsp.AppendS16LE(nil, b)}
	}
	a, err := codecs.Decode(b, pipeline.DecodeOptions{})
	require.NoError(t, err)
	return a
}

func formats() []pipeline.AudioFormat {
	f := []pipeline.AudioFormat{pipeline.FormatWAV, pipeline.FormatPCM, pipeline.FormatFLAC}
	if haveMP3() {
		f = append(f, pipeline.FormatMP3)
	}
	if haveOpus() {
		f = append(f, pipeline.FormatOpus)
	}
	return f
}

// TestEncodeRoundTrip encodes the reference at several input and output
// rates in every format and decodes it back: the length must be right
// (exact for wav, pcm, flac and opus, which trims with granule positions;
// MP3 adds LAME's delay and padding) and the audio the same (lossless
// formats up to 16-bit rounding, lossy ones by correlation).
func TestEncodeRoundTrip(t *testing.T) {
	ref := reference(t)
	for _, format := range formats() {
		for _, c := range []struct{ in, out int }{{16000, 0}, {16000, 16000}, {22050, 48000}, {24000, 8000}, {44100, 24000}} {
			t.Run(fmt.Sprintf("%s-%d-to-%d", format, c.in, c.out), func(t *testing.T) {
				in := ref
				if c.in != ref.Rate {
					s, err := dsp.Resample(ref.Samples, ref.Rate, c.in)
					require.NoError(t, err)
					in = pipeline.Audio{Rate: c.in, Samples: s}
				}
				outRate := c.out
				if outRate == 0 {
					outRate = 24000
				}
				b := encode(t, format, c.out, in, uint64(c.in))
				got := decodeOutput(t, format, outRate, b)
				if format == pipeline.FormatMP3 && outRate < 16000 {
					outRate = 16000 // MP3 output never uses MPEG-2.5
				}
				require.Equal(t, outRate, got.Rate)
				want := dsp.OutputLen(len(in.Samples), c.in, outRate)
				if format == pipeline.FormatMP3 {
					// LAME's encoder delay plus the decoder's, then padding
					// to whole 576/1152-sample frames.
					assert.GreaterOrEqual(t, len(got.Samples), want)
					assert.LessOrEqual(t, len(got.Samples), want+1105+2*1152)
				} else {
					assert.Equal(t, want, len(got.Samples))
				}
				minSim := 0.9999
				switch format {
				case pipeline.FormatMP3:
					minSim = 0.98
				case pipeline.FormatOpus:
					minSim = 0.97
				}
				expect, err := dsp.Resample(in.Samples, c.in, outRate)
				require.NoError(t, err)
				sim, lag := similarity(expect, got.Samples)
				assert.GreaterOrEqual(t, sim, minSim)
				switch format {
				case pipeline.FormatMP3: // LAME's delay is not signalled
				case pipeline.FormatOpus: // the codec's phase response
					assert.LessOrEqual(t, abs(lag), 2, "no delay")
				default:
					assert.Zero(t, lag, "no delay")
				}
			})
		}
	}
}

// A streamed WAV is playable while it arrives: after every Write the bytes
// so far are a valid WAV (0xFFFFFFFF sizes) holding exactly the samples
// written, for our decoder and for go-audio/wav.
func TestEncodeWAVStreamsPlayablePrefixes(t *testing.T) {
	ref := reference(t)
	var out bytes.Buffer
	enc, err := codecs.NewEncoder(&out, pipeline.FormatWAV, 16000)
	require.NoError(t, err)
	assert.Equal(t, "audio/wav", enc.ContentType())
	assert.Zero(t, out.Len(), "nothing is written before the first Write")
	written := 0
	for _, n := range []int{1, 799, 4000, 12000, 25920} {
		require.NoError(t, enc.Write(pipeline.Audio{Rate: 16000, Samples: ref.Samples[written : written+n]}))
		written += n
		prefix := bytes.Clone(out.Bytes())
		require.Equal(t, uint32(0xFFFFFFFF), binary.LittleEndian.Uint32(prefix[4:]), "RIFF size")
		require.Equal(t, uint32(0xFFFFFFFF), binary.LittleEndian.Uint32(prefix[40:]), "data size")
		a, err := codecs.Decode(prefix, pipeline.DecodeOptions{})
		require.NoError(t, err)
		require.Len(t, a.Samples, written)

		if _, err := exec.LookPath("sox"); err == nil {
			// sox reads a streamed WAV to the end of what it has.
			cmd := exec.Command("sox", "-t", "wav", "-", "-t", "raw", "-")
			cmd.Stdin = bytes.NewReader(prefix)
			raw, err := cmd.Output()
			require.NoError(t, err)
			assert.Len(t, raw, 2*written, "sox reads the prefix")
		}
		// go-audio/wav cannot read 0xFFFFFFFF sizes (its RIFF parser
		// rounds the odd size up and overflows), so it checks the header
		// fields on a copy with the sizes filled in, as a player would
		// after the download.
		sized := bytes.Clone(prefix)
		binary.LittleEndian.PutUint32(sized[4:], uint32(len(sized)-8))
		binary.LittleEndian.PutUint32(sized[40:], uint32(len(sized)-44))
		d := gowav.NewDecoder(bytes.NewReader(sized))
		buf, err := d.FullPCMBuffer()
		require.NoError(t, err)
		assert.Equal(t, 16000, int(d.SampleRate))
		assert.Equal(t, 16, int(d.BitDepth))
		assert.Equal(t, 1, int(d.NumChans))
		assert.Len(t, buf.Data, written, "go-audio/wav")
	}
	require.NoError(t, enc.Close())
	assert.Equal(t, 44+2*written, out.Len())
}

// Every Write of enough audio emits bytes at once, so a client can start
// playing after the first clause.
func TestEncodeEachWriteEmits(t *testing.T) {
	ref := reference(t)
	for _, format := range formats() {
		var out bytes.Buffer
		enc, err := codecs.NewEncoder(&out, format, 0)
		require.NoError(t, err)
		assert.Zero(t, out.Len(), "%s: nothing before the first Write", format)
		for i := range 5 {
			before := out.Len()
			chunk := ref.Samples[i*4000 : (i+1)*4000] // 250 ms
			require.NoError(t, enc.Write(pipeline.Audio{Rate: 16000, Samples: chunk}))
			assert.Greater(t, out.Len(), before, "%s: write %d emitted nothing", format, i)
		}
		require.NoError(t, enc.Close())
		require.NoError(t, enc.Close(), "Close twice")
		require.Error(t, enc.Write(pipeline.Audio{Rate: 16000, Samples: ref.Samples[:10]}), "Write after Close")
	}
}

func TestEncoderContentTypes(t *testing.T) {
	want := map[pipeline.AudioFormat]string{
		pipeline.FormatWAV: "audio/wav", pipeline.FormatPCM: "audio/pcm", pipeline.FormatFLAC: "audio/flac",
		pipeline.FormatMP3: "audio/mpeg", pipeline.FormatOpus: "audio/ogg",
	}
	for _, f := range formats() {
		enc, err := codecs.NewEncoder(&bytes.Buffer{}, f, 0)
		require.NoError(t, err)
		assert.Equal(t, want[f], enc.ContentType())
		require.NoError(t, enc.Close())
	}
}

func TestEncodeRejects(t *testing.T) {
	_, err := codecs.NewEncoder(&bytes.Buffer{}, pipeline.FormatAAC, 0)
	pe := requireKind(t, err, pipeline.KindInvalid)
	assert.Equal(t, "response_format", pe.Param)
	assert.Contains(t, pe.Message, `"aac" is not supported`)
	assert.Contains(t, pe.Message, "wav, pcm, flac")

	_, err = codecs.NewEncoder(&bytes.Buffer{}, "ogg-vorbis", 0)
	requireKind(t, err, pipeline.KindInvalid)
	_, err = codecs.NewEncoder(&bytes.Buffer{}, pipeline.FormatWAV, -5)
	requireKind(t, err, pipeline.KindInvalid)
	_, err = codecs.NewEncoder(&bytes.Buffer{}, pipeline.FormatWAV, 10_000_000)
	requireKind(t, err, pipeline.KindInvalid)
	_, err = codecs.NewEncoder(nil, pipeline.FormatWAV, 0)
	require.Error(t, err)

	enc, err := codecs.NewEncoder(&bytes.Buffer{}, pipeline.FormatPCM, 0)
	require.NoError(t, err)
	require.Error(t, enc.Write(pipeline.Audio{Rate: 0, Samples: []float32{1}}), "a rate of 0 is refused")

	if !haveMP3() {
		_, err = codecs.NewEncoder(&bytes.Buffer{}, pipeline.FormatMP3, 0)
		pe = requireKind(t, err, pipeline.KindInvalid)
		assert.Contains(t, pe.Message, "libmp3lame-dev")
	}
	if !haveOpus() {
		_, err = codecs.NewEncoder(&bytes.Buffer{}, pipeline.FormatOpus, 0)
		pe = requireKind(t, err, pipeline.KindInvalid)
		assert.Contains(t, pe.Message, "libopus-dev")
	}
}

// The engine may switch rates between Writes (another voice): the output
// stays continuous at the encoder's rate.
func TestEncodeRateChangeMidStream(t *testing.T) {
	ref := reference(t)
	half := ref.Samples[:len(ref.Samples)/2]
	at8k, err := dsp.Resample(ref.Samples[len(ref.Samples)/2:], 16000, 8000)
	require.NoError(t, err)
	var out bytes.Buffer
	enc, err := codecs.NewEncoder(&out, pipeline.FormatWAV, 0)
	require.NoError(t, err)
	require.NoError(t, enc.Write(pipeline.Audio{Rate: 16000, Samples: half}))
	require.NoError(t, enc.Write(pipeline.Audio{Rate: 8000, Samples: at8k}))
	require.NoError(t, enc.Close())
	a := decodeOutput(t, pipeline.FormatWAV, 24000, out.Bytes())
	want := dsp.OutputLen(len(half), 16000, 24000) + dsp.OutputLen(len(at8k), 8000, 24000)
	assert.Equal(t, want, len(a.Samples))
	sim, _ := similarity(ref.Samples, to16k(t, a))
	assert.Greater(t, sim, 0.97)
}

// Tools that share no code with this package must read what it writes.
func TestEncodeReadByIndependentTools(t *testing.T) {
	ref := reference(t)
	dir := t.TempDir()
	write := func(format pipeline.AudioFormat, ext string) string {
		p := filepath.Join(dir, "out."+ext)
		require.NoError(t, os.WriteFile(p, encode(t, format, 0, ref, 1), 0o600))
		return p
	}
	soxi := func(t *testing.T, p string, flag string) string {
		if _, err := exec.LookPath("soxi"); err != nil {
			t.Skip("sox not installed")
		}
		b, err := exec.Command("soxi", flag, p).CombinedOutput()
		require.NoError(t, err, string(b))
		return strings.TrimSpace(string(b))
	}
	t.Run("wav by sox", func(t *testing.T) {
		p := write(pipeline.FormatWAV, "wav")
		assert.Equal(t, "24000", soxi(t, p, "-r"))
		assert.Equal(t, "1", soxi(t, p, "-c"))
		// sox reads streamed WAVs to the end of the file.
		raw := filepath.Join(dir, "wav.raw")
		b, err := exec.Command("sox", p, "-t", "raw", raw).CombinedOutput()
		require.NoError(t, err, string(b))
		st, err := os.Stat(raw)
		require.NoError(t, err)
		assert.Equal(t, int64(2*dsp.OutputLen(len(ref.Samples), 16000, 24000)), st.Size())
	})
	t.Run("flac by flac -t and sox", func(t *testing.T) {
		p := write(pipeline.FormatFLAC, "flac")
		if _, err := exec.LookPath("flac"); err == nil {
			b, err := exec.Command("flac", "-t", "-s", p).CombinedOutput()
			require.NoError(t, err, string(b))
		}
		assert.Equal(t, "24000", soxi(t, p, "-r"))
		dec := filepath.Join(dir, "flac.wav")
		b, err := exec.Command("sox", p, dec).CombinedOutput()
		require.NoError(t, err, string(b))
		assert.Equal(t, strconv.Itoa(dsp.OutputLen(len(ref.Samples), 16000, 24000)), soxi(t, dec, "-s"))
	})
	t.Run("mp3 by sox", func(t *testing.T) {
		if !haveMP3() {
			t.Skip("built without the lame tag")
		}
		p := write(pipeline.FormatMP3, "mp3")
		if out, _ := exec.Command("sox", "-h").Output(); !bytes.Contains(out, []byte(" mp3")) {
			t.Skip("sox has no mp3 handler (libsox-fmt-mp3)")
		}
		assert.Equal(t, "24000", soxi(t, p, "-r"))
		dec := filepath.Join(dir, "mp3.wav")
		b, err := exec.Command("sox", p, dec).CombinedOutput()
		require.NoError(t, err, string(b))
		back, err := os.ReadFile(dec)
		require.NoError(t, err)
		a, err := codecs.Decode(back, pipeline.DecodeOptions{})
		require.NoError(t, err)
		sim, _ := similarity(ref.Samples, to16k(t, a))
		assert.Greater(t, sim, 0.98)
	})
	t.Run("opus by opusinfo and opusdec", func(t *testing.T) {
		if !haveOpus() {
			t.Skip("built without the opus tag")
		}
		if _, err := exec.LookPath("opusdec"); err != nil {
			t.Skip("opus-tools not installed")
		}
		p := write(pipeline.FormatOpus, "opus")
		info, err := exec.Command("opusinfo", p).CombinedOutput()
		require.NoError(t, err, string(info))
		assert.NotContains(t, strings.ToLower(string(info)), "warning")
		assert.Contains(t, string(info), "Original sample rate: 24000 Hz")
		dec := filepath.Join(dir, "opus.wav")
		b, err := exec.Command("opusdec", "--quiet", "--rate", "24000", p, dec).CombinedOutput()
		require.NoError(t, err, string(b))
		back, err := os.ReadFile(dec)
		require.NoError(t, err)
		a, err := codecs.Decode(back, pipeline.DecodeOptions{})
		require.NoError(t, err)
		assert.Equal(t, dsp.OutputLen(len(ref.Samples), 16000, 24000), len(a.Samples), "opusdec honours pre-skip and the final granule")
		sim, _ := similarity(ref.Samples, to16k(t, a))
		assert.Greater(t, sim, 0.97)
	})
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
