package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"

	"github.com/hajimehoshi/go-mp3"

	"github.com/ominix/ominix-api/pipeline"
)

// readOnly hides bytes.Reader's Seek so go-mp3 decodes in one pass instead
// of indexing every frame first.
type readOnly struct{ r io.Reader }

func (o readOnly) Read(p []byte) (int, error) { return o.r.Read(p) }

// decodeMP3 decodes MPEG-1/2/2.5 Layer III with go-mp3. data starts at the
// first frame (sniff has skipped ID3v2 tags, whose declared sizes go-mp3
// would allocate unchecked). go-mp3 always produces 16-bit stereo; the two
// channels are averaged (a mono file has them equal).
func decodeMP3(data []byte, lim limits) (pipeline.Audio, error) {
	dec, err := mp3.NewDecoder(readOnly{bytes.NewReader(data)})
	if err != nil {
		if isEOF(err) {
			return pipeline.Audio{}, truncated("MP3")
		}
		return pipeline.Audio{}, malformed("MP3", err)
	}
	rate := dec.SampleRate()
	if err := checkRate("MP3", rate); err != nil {
		return pipeline.Audio{}, err
	}
	c := newCollector(rate, lim, mp3SamplesHint(data))
	buf := make([]byte, 4*1152*8)
	mono := make([]float32, 0, len(buf)/4)
	for {
		n, err := io.ReadFull(dec, buf)
		n -= n % 4
		mono = mono[:0]
		for i := 0; i < n; i += 4 {
			l := int16(binary.LittleEndian.Uint16(buf[i:]))
			r := int16(binary.LittleEndian.Uint16(buf[i+2:]))
			mono = append(mono, float32(int32(l)+int32(r))/65536)
		}
		if addErr := c.add(mono); addErr != nil {
			return pipeline.Audio{}, addErr
		}
		switch {
		case err == nil:
			continue
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			// go-mp3 ends at the last whole frame; an MP3 stream has no
			// length to be truncated against.
			return c.audio("MP3")
		default:
			return pipeline.Audio{}, malformed("MP3", err)
		}
	}
}

// mp3SamplesHint estimates the decoded length from the first frame's size
// (exact for constant bitrate), to presize the output.
func mp3SamplesHint(data []byte) int64 {
	h, ok := parseMPEGHeader(data)
	if !ok {
		return 0
	}
	perFrame := int64(1152)
	if h.version != 1 {
		perFrame = 576
	}
	return (int64(len(data)/h.size) + 1) * perFrame
}
