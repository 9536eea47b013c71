package audio_test

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/audio"
	"github.com/ominix/ominix-api/pipeline"
)

// patch returns a copy of b with v written at off.
func patch(b []byte, off int, v ...byte) []byte {
	c := bytes.Clone(b)
	copy(c[off:], v)
	return c
}

func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func TestDecodeRejectsBadInput(t *testing.T) {
	ref := reference(t)
	wav := buildWAV(wavSpec{tag: 1, bits: 16, channels: 1, rate: 16000}, ref.Samples[:1600])
	// Offsets in a plain 44-byte-header WAV.
	const chans, rate, block, bits, dataSize = 22, 24, 32, 34, 40
	flac := fixture(t, "speech.flac")
	ogg := fixture(t, "speech.opus")
	webm := fixture(t, "speech-chrome.webm")
	cases := []struct {
		name string
		data []byte
		want string // in the message
	}{
		{"empty", nil, "audio file is empty"},
		{"text", []byte("hello, this is not audio\n"), "looks like text"},
		{"json", []byte(`{"file": "speech.wav"}`), "looks like text"},
		{"html", []byte("<!doctype html><html></html>"), "looks like text"},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "not a supported audio format"},
		{"random", randomBytes(4096), "not a supported audio format"},
		{"one byte", []byte{0xFF}, "not a supported audio format"},
		{"m4a", []byte("\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00"), "MP4/M4A"},
		{"aac adts", bytes.Repeat([]byte{0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC}, 8), "AAC (ADTS)"},
		{"aiff", []byte("FORM\x00\x00\x00\x10AIFFCOMM"), "AIFF is not supported"},
		{"avi", []byte("RIFF\x10\x00\x00\x00AVI LIST"), "not WAVE"},
		{"wav header only", wav[:12], "no fmt chunk"},
		{"wav cut in fmt", wav[:30], "truncated WAV"},
		{"wav no data", wav[:36], "no data chunk"},
		{"wav data past end", patch(wav, dataSize, le32(1<<30)...), "declares 1073741824 bytes but only 3200 are present"},
		{"wav cut in data", wav[:len(wav)-100], "truncated WAV"},
		{"wav zero channels", patch(wav, chans, le16(0)...), "declares 0 channels"},
		{"wav 1000 channels", patch(wav, chans, le16(1000)...), "declares 1000 channels"},
		{"wav rate 0", patch(wav, rate, le32(0)...), "unsupported sample rate of 0 Hz"},
		{"wav rate 1 GHz", patch(wav, rate, le32(1e9)...), "unsupported sample rate of 1000000000 Hz"},
		{"wav 12 bit", patch(wav, bits, le16(12)...), "PCM 12-bit is not supported"},
		{"wav adpcm", patch(wav, 20, le16(2)...), "MS ADPCM is not supported"},
		{"wav bad block align", patch(wav, block, le16(3)...), "inconsistent block alignment"},
		{"wav zero samples", patch(wav[:44], dataSize, le32(0)...), "contains no audio samples"},
		{"wav huge LIST chunk", append(append([]byte("RIFF\x00\x00\x00\x00WAVELIST"), le32(0xFFFFFFF0)...), 1, 2, 3), "truncated WAV"},
		{"wav data before fmt", append([]byte("RIFF\x00\x00\x00\x00WAVEdata\x02\x00\x00\x00"), 0, 0), "data chunk before the fmt chunk"},
		{"wav bad extensible", buildWAV(wavSpec{tag: 0x55, bits: 16, channels: 1, rate: 16000, extensible: true}, ref.Samples[:10]), "not supported"},
		{"flac signature only", []byte("fLaC"), "truncated FLAC"},
		{"flac cut in metadata", flac[:30], "truncated FLAC"},
		{"flac cut in audio", flac[:len(flac)/2], "truncated FLAC"},
		{"flac corrupt frame", corrupt(flac, len(flac)/2), "malformed FLAC"},
		{"mp3 id3 only", append([]byte("ID3\x04\x00\x00\x00\x00\x00\x0a"), make([]byte, 10)...), "no MP3 audio after it"},
		{"mp3 id3 lying size", []byte("ID3\x04\x00\x00\x7f\x7f\x7f\x7fxxxx"), "truncated MP3"},
		{"ogg capture only", []byte("OggS"), "truncated Ogg"},
		{"ogg cut mid page", ogg[:len(ogg)/2], "truncated Ogg"},
		{"ogg bad checksum", corrupt(ogg, len(ogg)/2), "checksum mismatch"},
		{"ogg vorbis", oggPage(0x02, 1, []byte("\x01vorbis\x00\x00\x00\x00\x02\x44\xac\x00\x00")), "Ogg/Vorbis is not supported"},
		{"ogg opus head lies", oggPage(0x02, 1, append([]byte("OpusHead\x01\x09"), make([]byte, 9)...)), "declares 9 channels"},
		{"webm ebml only", webm[:0x24], "truncated WebM"},
		{"webm cut mid block", webm[:0x200], "truncated WebM"},
		{"webm wrong doctype", patch(webm, 0x18, []byte("weBm")...), "not WebM or Matroska"},
		{"webm no audio", mkv(ebmlTracks(mkvTrackSpec{number: 1, kind: 1, codec: "V_VP8"})), "no audio track"},
		{"webm vorbis", mkv(ebmlTracks(mkvTrackSpec{number: 1, kind: 2, codec: "A_VORBIS"})), "A_VORBIS is not supported"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := codecs.Decode(c.data, pipeline.DecodeOptions{})
			pe := requireKind(t, err, pipeline.KindInvalid)
			assert.Contains(t, pe.Message, c.want)
			assert.Equal(t, "file", pe.Param)
		})
	}
}

// Truncating any fixture anywhere must give a clear error or (for formats
// without a declared length, such as MP3 or a live WebM) shorter audio.
func TestDecodeTruncatedEverywhere(t *testing.T) {
	files := []string{"speech.wav", "speech.flac", "speech16k.mp3", "speech44k.mp3", "speech.opus", "speech-chrome.webm"}
	rng := rand.New(rand.NewPCG(1, 1))
	for _, f := range files {
		data := fixture(t, f)
		full, fullErr := codecs.Decode(data, pipeline.DecodeOptions{})
		for range 12 {
			n := rng.IntN(len(data))
			a, err := codecs.Decode(data[:n], pipeline.DecodeOptions{})
			if err != nil {
				requireKind(t, err, pipeline.KindInvalid)
				continue
			}
			require.NoError(t, fullErr)
			assert.Less(t, len(a.Samples), len(full.Samples), "%s cut at %d", f, n)
		}
	}
}

func randomBytes(n int) []byte {
	rng := rand.New(rand.NewPCG(9, 9))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
		if b[i] == 0xFF { // keep clear of MPEG sync words
			b[i] = 0
		}
	}
	return b
}

// corrupt flips bits in a run of bytes in the middle of b.
func corrupt(b []byte, at int) []byte {
	c := bytes.Clone(b)
	for i := at; i < at+16 && i < len(c); i++ {
		c[i] ^= 0x5A
	}
	return c
}

// Headers that declare far more data than the file holds must fail without
// allocating for the declared size.
func TestDecodeLyingHeadersAllocateLittle(t *testing.T) {
	ref := reference(t)
	wav := buildWAV(wavSpec{tag: 1, bits: 16, channels: 1, rate: 16000}, ref.Samples[:1600])
	flac := bytes.Clone(fixture(t, "speech.flac"))
	// STREAMINFO's 36-bit total sample count sits in bytes 21..26 of the
	// file (after "fLaC" and the block header); claim 2^36-1 samples.
	flac[21] |= 0x0F
	copy(flac[22:26], []byte{0xFF, 0xFF, 0xFF, 0xFF})
	webm := bytes.Clone(fixture(t, "speech-chrome.webm"))
	cases := map[string][]byte{
		"wav data 4 GiB":   patch(wav, 40, le32(0xFFFFFFF0)...),
		"wav fmt 4 GiB":    patch(wav, 16, le32(0xFFFFFFF0)...),
		"wav 65535 chans":  patch(wav, 22, le16(0xFFFF)...),
		"flac 2^36 frames": flac,
		"mp3 id3 256 MiB":  append([]byte("ID3\x04\x00\x00\x7f\x7f\x7f\x7f"), bytes.Repeat([]byte{0xFF, 0xFB, 0x90, 0x00}, 100)...),
		"webm tracks 2^56": append(bytes.Clone(webm[:0x2C]), 0x16, 0x54, 0xAE, 0x6B, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE),
	}
	for name, data := range cases {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := codecs.Decode(data, pipeline.DecodeOptions{})
		runtime.ReadMemStats(&after)
		require.Error(t, err, name)
		pe := requireKind(t, err, pipeline.AsError(err).Kind)
		assert.Contains(t, []pipeline.ErrorKind{pipeline.KindInvalid, pipeline.KindTooLarge}, pe.Kind, name)
		assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(4<<20), "%s: %s", name, pe.Message)
		t.Logf("%s: %s (%d KiB allocated)", name, pe.Message, (after.TotalAlloc-before.TotalAlloc)>>10)
	}
}

// go-mp3 lacks MPEG-2.5 (8, 11.025 and 12 kHz MP3s): they get an error
// that names the rate and the MP3 rates that are read.
func TestDecodeMPEG25IsRefusedClearly(t *testing.T) {
	if out, _ := exec.Command("sox", "-h").Output(); !bytes.Contains(out, []byte(" mp3")) {
		t.Skip("sox with an mp3 handler (libsox-fmt-mp3) not installed")
	}
	for _, rate := range []string{"8000", "11025", "12000"} {
		p := filepath.Join(t.TempDir(), rate+".mp3")
		b, err := exec.Command("sox", filepath.Join("testdata", "speech.wav"), "-r", rate, p).CombinedOutput()
		require.NoError(t, err, string(b))
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		_, err = codecs.Decode(data, pipeline.DecodeOptions{})
		pe := requireKind(t, err, pipeline.KindInvalid)
		assert.Contains(t, pe.Message, "MPEG-2.5 MP3 at "+rate+" Hz is not supported")
		assert.Contains(t, pe.Message, "16000, 22050, 24000, 32000, 44100 or 48000 Hz")
		assert.Equal(t, "file", pe.Param)
	}
	// The rates it names do decode.
	for _, rate := range []int{16000, 22050, 24000, 32000, 44100, 48000} {
		p := filepath.Join(t.TempDir(), "x.mp3")
		b, err := exec.Command("sox", filepath.Join("testdata", "speech.wav"), "-r", strconv.Itoa(rate), p).CombinedOutput()
		require.NoError(t, err, string(b))
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		a, err := codecs.Decode(data, pipeline.DecodeOptions{})
		require.NoError(t, err, "%d Hz", rate)
		assert.Equal(t, rate, a.Rate)
	}
}

func TestFormatLists(t *testing.T) {
	assert.Subset(t, audio.EncodeFormats(), []string{"wav", "pcm", "flac"})
	assert.Subset(t, audio.DecodeFormats(), []string{"wav", "flac", "mp3"})
	assert.Equal(t, haveOpus(), slices.Contains(audio.DecodeFormats(), "webm/opus"))
}
