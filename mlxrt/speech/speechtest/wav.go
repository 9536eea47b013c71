package speechtest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/ominix/ominix-api/pipeline"
)

// MaxWAVBytes bounds the sample data ReadWAV accepts (64 MiB).
const MaxWAVBytes = 64 << 20

// ReadWAV parses a RIFF/WAVE file of 16-bit integer PCM (format tag 1, or
// WAVE_FORMAT_EXTENSIBLE with a PCM sub-format) with any number of channels,
// mixes it down to mono and returns it as float samples in [-1, 1]. Unknown
// chunks are skipped; a data chunk larger than MaxWAVBytes or than the file
// fails.
func ReadWAV(b []byte) (pipeline.Audio, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return pipeline.Audio{}, errors.New("read wav: not a RIFF/WAVE file")
	}
	var channels, rate, bits int
	for p := 12; p+8 <= len(b); {
		id := string(b[p : p+4])
		size := int64(binary.LittleEndian.Uint32(b[p+4 : p+8]))
		body := int64(p + 8)
		if size > int64(len(b))-body {
			return pipeline.Audio{}, fmt.Errorf("read wav: chunk %q runs past the end of the file", id)
		}
		chunk := b[body : body+size]
		switch id {
		case "fmt ":
			var err error
			if channels, rate, bits, err = parseFmt(chunk); err != nil {
				return pipeline.Audio{}, err
			}
		case "data":
			if channels == 0 {
				return pipeline.Audio{}, errors.New("read wav: data chunk before fmt chunk")
			}
			if size > MaxWAVBytes {
				return pipeline.Audio{}, fmt.Errorf("read wav: %d bytes of samples exceed the %d limit", size, MaxWAVBytes)
			}
			return pipeline.Audio{Rate: rate, Samples: mixdown(chunk, channels, bits)}, nil
		}
		p = int(body + size + size&1) // chunks are padded to even sizes
	}
	return pipeline.Audio{}, errors.New("read wav: no data chunk")
}

func parseFmt(c []byte) (channels, rate, bits int, err error) {
	if len(c) < 16 {
		return 0, 0, 0, errors.New("read wav: short fmt chunk")
	}
	tag := binary.LittleEndian.Uint16(c[0:2])
	channels = int(binary.LittleEndian.Uint16(c[2:4]))
	rate = int(binary.LittleEndian.Uint32(c[4:8]))
	bits = int(binary.LittleEndian.Uint16(c[14:16]))
	if tag == 0xFFFE && len(c) >= 26 {
		tag = binary.LittleEndian.Uint16(c[24:26]) // sub-format GUID starts with the tag
	}
	switch {
	case tag != 1:
		return 0, 0, 0, fmt.Errorf("read wav: format tag %d is not integer PCM", tag)
	case bits != 16:
		return 0, 0, 0, fmt.Errorf("read wav: %d-bit samples, want 16", bits)
	case channels < 1 || channels > 8:
		return 0, 0, 0, fmt.Errorf("read wav: %d channels", channels)
	case rate < 1000 || rate > 384000:
		return 0, 0, 0, fmt.Errorf("read wav: sample rate %d Hz out of range", rate)
	}
	return channels, rate, bits, nil
}

func mixdown(data []byte, channels, bits int) []float32 {
	frame := channels * bits / 8
	out := make([]float32, len(data)/frame)
	for i := range out {
		var sum float32
		for c := range channels {
			o := i*frame + c*2
			sum += float32(int16(binary.LittleEndian.Uint16(data[o:]))) / 32768
		}
		out[i] = sum / float32(channels)
	}
	return out
}

// WriteWAV writes a as a mono 16-bit PCM WAV file, clipping samples to
// [-1, 1].
func WriteWAV(w io.Writer, a pipeline.Audio) error {
	n := len(a.Samples) * 2
	if n > MaxWAVBytes {
		return fmt.Errorf("write wav: %d bytes of samples exceed the %d limit", n, MaxWAVBytes)
	}
	buf := make([]byte, 44+n)
	copy(buf[0:], "RIFF")
	binary.LittleEndian.PutUint32(buf[4:], uint32(36+n))
	copy(buf[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(buf[16:], 16)
	binary.LittleEndian.PutUint16(buf[20:], 1) // PCM
	binary.LittleEndian.PutUint16(buf[22:], 1) // mono
	binary.LittleEndian.PutUint32(buf[24:], uint32(a.Rate))
	binary.LittleEndian.PutUint32(buf[28:], uint32(a.Rate*2))
	binary.LittleEndian.PutUint16(buf[32:], 2)
	binary.LittleEndian.PutUint16(buf[34:], 16)
	copy(buf[36:], "data")
	binary.LittleEndian.PutUint32(buf[40:], uint32(n))
	for i, s := range a.Samples {
		v := math.Round(float64(s) * 32767)
		if math.IsNaN(v) {
			v = 0
		}
		v = math.Max(-32768, math.Min(32767, v))
		binary.LittleEndian.PutUint16(buf[44+2*i:], uint16(int16(v)))
	}
	_, err := w.Write(buf)
	return err
}
