package audio_test

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
)

// rawPage builds an Ogg page from explicit lacing values and body.
func rawPage(flags byte, serial, seq uint32, granule int64, lacing, body []byte) []byte {
	b := []byte("OggS\x00")
	b = append(b, flags)
	b = binary.LittleEndian.AppendUint64(b, uint64(granule))
	b = binary.LittleEndian.AppendUint32(b, serial)
	b = binary.LittleEndian.AppendUint32(b, seq)
	b = append(b, 0, 0, 0, 0, byte(len(lacing)))
	b = append(b, lacing...)
	b = append(b, body...)
	binary.LittleEndian.PutUint32(b[22:], oggCRC(b))
	return b
}

// lace returns the lacing values of one whole packet.
func lace(n int) []byte {
	var l []byte
	for ; n >= 255; n -= 255 {
		l = append(l, 255)
	}
	return append(l, byte(n))
}

// TestDecodeOggShapes re-pages the opusenc fixture: a Skeleton-like stream
// multiplexed before the Opus one, a long OpusTags packet continued across
// pages, and every audio packet on its own page.
func TestDecodeOggShapes(t *testing.T) {
	if !haveOpus() {
		t.Skip("built without the opus tag")
	}
	packets, granule := oggPackets(fixture(t, "speech.opus"))
	tags := append([]byte("OpusTags\x04\x00\x00\x00test\x01\x00\x00\x00"), binary.LittleEndian.AppendUint32(nil, 600)...)
	tags = append(tags, make([]byte, 600)...)
	const opus, other = 5, 9
	var b []byte
	b = append(b, rawPage(0x02, other, 0, 0, lace(8), []byte("fishead\x00"))...)
	b = append(b, rawPage(0x02, opus, 0, 0, lace(len(packets[0])), packets[0])...)
	b = append(b, rawPage(0x00, opus, 1, -1, []byte{255, 255}, tags[:510])...)
	b = append(b, rawPage(0x01, opus, 2, 0, lace(len(tags)-510), tags[510:])...)
	b = append(b, rawPage(0x04, other, 1, 0, nil, nil)...)
	g, lastPage := int64(0), 0
	for i, p := range packets[2:] {
		lastPage = len(b)
		g += 960
		flags := byte(0)
		if i == len(packets)-3 {
			flags, g = 0x04, granule
		}
		b = append(b, rawPage(flags, opus, uint32(3+i), g, lace(len(p)), p)...)
	}
	a, err := codecs.Decode(b, pipeline.DecodeOptions{})
	require.NoError(t, err)
	ref := reference(t)
	assert.Equal(t, len(ref.Samples), len(a.Samples))
	sim, _ := similarity(ref.Samples, a.Samples)
	assert.Greater(t, sim, 0.98)

	// Pages after the Opus stream's end are ignored.
	_, err = codecs.Decode(append(b[:len(b):len(b)], rawPage(0x02, 77, 0, 0, lace(4), []byte("junk"))...), pipeline.DecodeOptions{})
	require.NoError(t, err)
	// A packet left open where the file ends is a truncation.
	open := append(b[:lastPage:lastPage], rawPage(0x00, opus, 999, -1, []byte{255}, make([]byte, 255))...)
	_, err = codecs.Decode(open, pipeline.DecodeOptions{})
	pe := requireKind(t, err, pipeline.KindInvalid)
	assert.Contains(t, pe.Message, "truncated Ogg/Opus")
}

// opusenc writes 5.1 audio as mapping family 1 (multistream).
func TestDecodeSurroundOpus(t *testing.T) {
	if !haveOpus() {
		t.Skip("built without the opus tag")
	}
	for _, tool := range []string{"sox", "opusenc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip(tool + " not installed")
		}
	}
	dir := t.TempDir()
	six, out := filepath.Join(dir, "six.wav"), filepath.Join(dir, "six.opus")
	b, err := exec.Command("sox", "-D", filepath.Join("testdata", "speech.wav"), "-r", "48000", "-c", "6", six).CombinedOutput()
	require.NoError(t, err, string(b))
	b, err = exec.Command("opusenc", "--quiet", six, out).CombinedOutput()
	require.NoError(t, err, string(b))
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, byte(1), data[28+18], "mapping family 1")
	a, err := codecs.Decode(data, pipeline.DecodeOptions{})
	require.NoError(t, err)
	assert.Equal(t, 48000, a.Rate)
	ref := reference(t)
	assert.InDelta(t, ref.Seconds(), a.Seconds(), 0.001)
	sim, _ := similarity(ref.Samples, to16k(t, a))
	assert.Greater(t, sim, 0.95)
}
