package audio

import (
	"bytes"
	"unicode/utf8"
)

// container is what the first bytes of a file say it is.
type container int

const (
	unknownContainer container = iota
	wavContainer
	flacContainer
	mp3Container
	oggContainer
	webmContainer
)

// sniffResult is the container and where its data starts (after any ID3v2
// tag), or a KindInvalid error for recognised but unsupported formats.
type sniffResult struct {
	kind  container
	start int
	err   error
}

// mp3SyncWindow is how far past the start (and any ID3v2 tag) the first
// MPEG frame may sit.
const mp3SyncWindow = 4096

// sniff identifies the container from its magic bytes; file names and
// declared content types are never trusted.
func sniff(data []byte) sniffResult {
	switch {
	case len(data) < 12 && (bytes.HasPrefix(data, []byte("RIFF")) || bytes.HasPrefix(data, []byte("RF64"))):
		return sniffResult{err: truncated("WAV")}
	case len(data) >= 12 && (string(data[:4]) == "RIFF" || string(data[:4]) == "RF64") && string(data[8:12]) == "WAVE":
		return sniffResult{kind: wavContainer}
	case len(data) >= 4 && string(data[:4]) == "RIFF":
		return sniffResult{err: invalidf("RIFF file is not WAVE audio (AVI or another RIFF format?); supported: %s", supportedInputs)}
	case bytes.HasPrefix(data, []byte("fLaC")):
		return sniffResult{kind: flacContainer}
	case bytes.HasPrefix(data, []byte("OggS")):
		return sniffResult{kind: oggContainer}
	case bytes.HasPrefix(data, []byte{0x1A, 0x45, 0xDF, 0xA3}):
		return sniffResult{kind: webmContainer}
	case bytes.HasPrefix(data, []byte("ID3")):
		end, err := skipID3v2(data)
		if err != nil {
			return sniffResult{err: err}
		}
		if bytes.HasPrefix(data[end:], []byte("fLaC")) {
			return sniffResult{kind: flacContainer, start: end}
		}
		return sniffMPEG(data, end)
	case len(data) >= 8 && string(data[4:8]) == "ftyp":
		return unsupported("MP4/M4A audio (AAC or ALAC)")
	case len(data) >= 12 && string(data[:4]) == "FORM" && (string(data[8:12]) == "AIFF" || string(data[8:12]) == "AIFC"):
		return unsupported("AIFF")
	case bytes.HasPrefix(data, []byte("caff")):
		return unsupported("Core Audio (CAF)")
	case bytes.HasPrefix(data, []byte("#!AMR")):
		return unsupported("AMR")
	case bytes.HasPrefix(data, []byte(".snd")):
		return unsupported("Sun/NeXT .au")
	}
	return sniffMPEG(data, 0)
}

func unsupported(what string) sniffResult {
	return sniffResult{err: invalidf("%s is not supported; send %s", what, supportedInputs)}
}

// sniffMPEG looks for two consecutive MPEG audio frame headers near start.
func sniffMPEG(data []byte, start int) sniffResult {
	limit := min(len(data)-4, start+mp3SyncWindow)
	for p := start; p <= limit; p++ {
		if data[p] != 0xFF {
			continue
		}
		if isADTS(data[p:]) {
			return unsupported("AAC (ADTS) audio")
		}
		h, ok := parseMPEGHeader(data[p:])
		if !ok {
			continue
		}
		next := p + h.size
		if next+4 <= len(data) {
			h2, ok := parseMPEGHeader(data[next:])
			if !ok || h2.version != h.version || h2.layer != h.layer || h2.rate != h.rate {
				continue
			}
		} else if next != len(data) && p != start {
			continue // a lone frame is only trusted right at the start
		}
		if h.layer != 3 {
			return unsupported("MPEG layer I/II audio (MP1/MP2)")
		}
		if h.version == 25 {
			// go-mp3 refuses MPEG-2.5 ("not supported") in its frame
			// decoder; say which files it does read.
			return sniffResult{err: invalidf("MPEG-2.5 MP3 at %d Hz is not supported: MP3 files must be MPEG-1 or MPEG-2 Layer III "+
				"at %s Hz; resample to one of those rates, or send WAV, FLAC, Ogg/Opus or WebM/Opus, which any rate from 8000 Hz works in", h.rate, mp3DecodeRates)}
		}
		return sniffResult{kind: mp3Container, start: p}
	}
	if start > 0 {
		return sniffResult{err: invalidf("file has an ID3 tag but no MP3 audio after it")}
	}
	return sniffResult{err: notAudio(data)}
}

func notAudio(data []byte) error {
	head := data[:min(len(data), 512)]
	if utf8.Valid(head) && bytes.IndexFunc(head, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\r' && r != '\t' }) < 0 {
		return invalidf("file looks like text, not audio; supported: %s", supportedInputs)
	}
	return invalidf("file is not a supported audio format; supported: %s", supportedInputs)
}

// skipID3v2 returns the offset after the ID3v2 tags at the start of data
// (several may follow each other), checking their size against the data.
func skipID3v2(data []byte) (int, error) {
	p := 0
	for len(data)-p >= 10 && string(data[p:p+3]) == "ID3" {
		sz := data[p+6 : p+10]
		if (sz[0]|sz[1]|sz[2]|sz[3])&0x80 != 0 {
			return 0, invalidf("file has a malformed ID3 tag")
		}
		size := int(sz[0])<<21 | int(sz[1])<<14 | int(sz[2])<<7 | int(sz[3])
		size += 10
		if data[p+5]&0x10 != 0 { // footer present
			size += 10
		}
		if p+size > len(data) {
			return 0, truncated("MP3")
		}
		p += size
	}
	return p, nil
}

// mpegHeader is a parsed MPEG audio frame header.
type mpegHeader struct {
	version int // 1, 2, or 25 (MPEG 2.5)
	layer   int // 1, 2, 3
	rate    int
	size    int // bytes in the frame, header included
}

// mp3DecodeRates are the sample rates of the MP3 files Decode reads
// (MPEG-1 and MPEG-2 Layer III; go-mp3 has no MPEG-2.5, which is 8000,
// 11025 and 12000 Hz).
const mp3DecodeRates = "16000, 22050, 24000, 32000, 44100 or 48000"

var (
	mpegRates = map[int][3]int{1: {44100, 48000, 32000}, 2: {22050, 24000, 16000}, 25: {11025, 12000, 8000}}
	// kbit/s by [version 1 or 2][layer-1][index]
	mpegBitrates = [2][3][15]int{
		{
			{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448},
			{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},
			{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320},
		},
		{
			{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},
			{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
			{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
		},
	}
)

// parseMPEGHeader decodes a frame header; free-format and reserved values
// are rejected.
func parseMPEGHeader(b []byte) (mpegHeader, bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return mpegHeader{}, false
	}
	var h mpegHeader
	switch (b[1] >> 3) & 3 {
	case 0:
		h.version = 25
	case 2:
		h.version = 2
	case 3:
		h.version = 1
	default:
		return h, false
	}
	h.layer = 4 - int((b[1]>>1)&3)
	bi, si, pad := int(b[2]>>4), int((b[2]>>2)&3), int((b[2]>>1)&1)
	if h.layer == 4 || bi == 0 || bi == 15 || si == 3 {
		return h, false
	}
	vi := 0
	if h.version != 1 {
		vi = 1
	}
	br := mpegBitrates[vi][h.layer-1][bi] * 1000
	h.rate = mpegRates[h.version][si]
	switch {
	case h.layer == 1:
		h.size = (12*br/h.rate + pad) * 4
	case h.layer == 3 && h.version != 1:
		h.size = 72*br/h.rate + pad
	default:
		h.size = 144*br/h.rate + pad
	}
	return h, h.size > 4
}

// isADTS recognises an AAC ADTS header (MPEG sync with layer 0).
func isADTS(b []byte) bool {
	return len(b) >= 7 && b[0] == 0xFF && b[1]&0xF6 == 0xF0 && (b[2]>>2)&0xF < 13
}
