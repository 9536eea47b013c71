package audio_test

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
)

// A test-only Ogg page builder and Matroska muxer, independent of the
// package's own code, used to hand-build inputs.

func oggCRC(b []byte) uint32 {
	var crc uint32
	for _, v := range b {
		crc ^= uint32(v) << 24
		for range 8 {
			if crc&0x80000000 != 0 {
				crc = crc<<1 ^ 0x04C11DB7
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// oggPage builds one page holding one packet (under 255*255 bytes).
func oggPage(flags byte, serial uint32, packet []byte) []byte {
	b := []byte("OggS\x00")
	b = append(b, flags)
	b = binary.LittleEndian.AppendUint64(b, 0)
	b = binary.LittleEndian.AppendUint32(b, serial)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = append(b, 0, 0, 0, 0)
	var lacing []byte
	n := len(packet)
	for ; n >= 255; n -= 255 {
		lacing = append(lacing, 255)
	}
	lacing = append(lacing, byte(n))
	b = append(b, byte(len(lacing)))
	b = append(b, lacing...)
	b = append(b, packet...)
	binary.LittleEndian.PutUint32(b[22:], oggCRC(b))
	return b
}

// oggPackets extracts the packets and the last granule position of an
// Ogg file without checking anything (the fixtures are trusted).
func oggPackets(data []byte) (packets [][]byte, granule int64) {
	var cur []byte
	for len(data) >= 27 {
		nseg := int(data[26])
		lacing := data[27 : 27+nseg]
		body := data[27+nseg:]
		granule = int64(binary.LittleEndian.Uint64(data[6:]))
		size := 0
		for _, l := range lacing {
			cur = append(cur, body[size:size+int(l)]...)
			size += int(l)
			if l < 255 {
				packets = append(packets, cur)
				cur = nil
			}
		}
		data = body[size:]
	}
	return packets, granule
}

// el encodes an EBML element with an 8-byte size field.
func el(id uint32, body ...[]byte) []byte {
	var b []byte
	for s := id; s > 0; s >>= 8 {
		b = append([]byte{byte(s)}, b...)
	}
	n := 0
	for _, p := range body {
		n += len(p)
	}
	sz := binary.BigEndian.AppendUint64(nil, uint64(n))
	sz[0] = 0x01 // 8-byte vint marker
	b = append(b, sz...)
	for _, p := range body {
		b = append(b, p...)
	}
	return b
}

// elUnknown starts an element of unknown size (its children follow).
func elUnknown(id uint32) []byte {
	var b []byte
	for s := id; s > 0; s >>= 8 {
		b = append([]byte{byte(s)}, b...)
	}
	return append(b, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF)
}

func uintBytes(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

type mkvTrackSpec struct {
	number     uint64
	kind       uint64
	codec      string
	private    []byte
	codecDelay uint64
}

func ebmlTracks(tracks ...mkvTrackSpec) []byte {
	var entries [][]byte
	for _, t := range tracks {
		parts := [][]byte{
			el(0xD7, uintBytes(t.number)),
			el(0x83, uintBytes(t.kind)),
			el(0x86, []byte(t.codec)),
		}
		if t.private != nil {
			parts = append(parts, el(0x63A2, t.private))
		}
		if t.codecDelay != 0 {
			parts = append(parts, el(0x56AA, uintBytes(t.codecDelay)))
		}
		entries = append(entries, el(0xAE, parts...))
	}
	return el(0x1654AE6B, entries...)
}

// mkv wraps Segment children in an EBML header and a known-size Segment.
func mkv(children ...[]byte) []byte {
	header := el(0x1A45DFA3, el(0x4282, []byte("webm")))
	return append(header, el(0x18538067, children...)...)
}

// block encodes a (Simple)Block body for track 1 with the given lacing.
func block(lacing byte, frames ...[]byte) []byte {
	b := []byte{0x81, 0, 0, 0x80 | lacing<<1}
	if lacing == 0 {
		return append(b, frames[0]...)
	}
	b = append(b, byte(len(frames)-1))
	switch lacing {
	case 1: // Xiph
		for _, f := range frames[:len(frames)-1] {
			n := len(f)
			for ; n >= 255; n -= 255 {
				b = append(b, 255)
			}
			b = append(b, byte(n))
		}
	case 3: // EBML: first size, then signed differences, as 2-byte vints
		prev := 0
		for i, f := range frames[:len(frames)-1] {
			v := len(f)
			if i > 0 {
				v = len(f) - prev + (1<<13 - 1)
			}
			b = append(b, 0x40|byte(v>>8), byte(v))
			prev = len(f)
		}
	}
	for _, f := range frames {
		b = append(b, f...)
	}
	return b
}

// TestDecodeHandMadeWebM re-muxes the packets of the opusenc fixture into
// WebM files of every shape the demuxer must take: known and unknown
// sizes, SimpleBlocks and BlockGroups, Xiph, EBML and no lacing, CodecDelay
// and DiscardPadding, a video track alongside, Void elements.
func TestDecodeHandMadeWebM(t *testing.T) {
	if !haveOpus() {
		t.Skip("built without the opus tag")
	}
	packets, granule := oggPackets(fixture(t, "speech.opus"))
	head, audio := packets[0], packets[2:]
	preSkip := int64(binary.LittleEndian.Uint16(head[10:]))
	total48 := granule - preSkip
	decoded48 := int64(len(audio)) * 960 // opusenc writes 20 ms packets
	discard := decoded48 - preSkip - total48
	ns := func(samples48 int64) uint64 { return uint64(samples48 * 1_000_000_000 / 48000) }

	tracks := ebmlTracks(
		mkvTrackSpec{number: 2, kind: 1, codec: "V_VP8"},
		mkvTrackSpec{number: 1, kind: 2, codec: "A_OPUS", private: head, codecDelay: ns(preSkip)},
	)
	var simple, xiph, ebmlLaced [][]byte
	body := audio[:len(audio)-1] // the last packet goes in its own BlockGroup
	for i, p := range body {
		simple = append(simple, el(0xA3, block(0, p)))
		if i%3 == 0 {
			group := body[i:min(i+3, len(body))]
			xiph = append(xiph, el(0xA3, block(1, group...)))
			ebmlLaced = append(ebmlLaced, el(0xA0, el(0xA1, block(3, group...))))
		}
	}
	last := el(0xA0, el(0xA1, block(0, audio[len(audio)-1])), el(0x75A2, uintBytes(ns(discard))))
	withLast := func(blocks [][]byte) []byte {
		var b []byte
		for _, x := range blocks {
			b = append(b, x...)
		}
		return append(b, last...)
	}
	cluster := func(blocks ...[]byte) []byte {
		return el(0x1F43B675, append([][]byte{el(0xE7, uintBytes(0))}, blocks...)...)
	}

	unknown := append(el(0x1A45DFA3, el(0x4282, []byte("webm"))), elUnknown(0x18538067)...)
	unknown = append(unknown, tracks...)
	unknown = append(unknown, elUnknown(0x1F43B675)...)
	unknown = append(unknown, el(0xE7, uintBytes(0))...)
	unknown = append(unknown, el(0xEC, make([]byte, 5))...) // Void
	unknown = append(unknown, withLast(simple)...)

	for name, data := range map[string][]byte{
		"known sizes, simple blocks": mkv(tracks, cluster(withLast(simple))),
		"unknown sizes":              unknown,
		"xiph lacing":                mkv(tracks, el(0xEC, make([]byte, 3)), cluster(xiph...), cluster(last)),
		"ebml lacing":                mkv(tracks, cluster(ebmlLaced...), cluster(last)),
	} {
		t.Run(name, func(t *testing.T) {
			a, err := codecs.Decode(data, pipeline.DecodeOptions{})
			require.NoError(t, err)
			require.Equal(t, 16000, a.Rate)
			assert.Equal(t, int(total48/3), len(a.Samples), "pre-skip and end trimming")
			sim, _ := similarity(reference(t).Samples, a.Samples)
			assert.Greater(t, sim, 0.95)
		})
	}
}
