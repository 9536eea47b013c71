package audio

import (
	"math/bits"
)

// A small, bounded Matroska/WebM demuxer for the Opus audio track, as
// browsers' MediaRecorder writes it: the Segment and its Clusters may have
// "unknown" sizes (the recorder streams them), so those two are entered
// without needing their end and every other element is skipped by size.
// Nothing is allocated from a declared size: frames alias the input.

// EBML and Matroska element IDs (marker bits included).
const (
	ebmlIDHeader         = 0x1A45DFA3
	ebmlIDDocType        = 0x4282
	mkvIDSegment         = 0x18538067
	mkvIDCluster         = 0x1F43B675
	mkvIDSimpleBlock     = 0xA3
	mkvIDBlockGroup      = 0xA0
	mkvIDBlock           = 0xA1
	mkvIDDiscardPadding  = 0x75A2
	mkvIDTracks          = 0x1654AE6B
	mkvIDTrackEntry      = 0xAE
	mkvIDTrackNumber     = 0xD7
	mkvIDTrackType       = 0x83
	mkvIDCodecID         = 0x86
	mkvIDCodecPrivate    = 0x63A2
	mkvIDCodecDelay      = 0x56AA
	mkvTrackTypeAudio    = 2
	ebmlUnknownSize      = -1
	mkvMaxLacedFrames    = 256
	nanosPerSecond       = 1_000_000_000
	mkvMaxCodecIDLength  = 64
	mkvMaxTrackEntries   = 128
	mkvMaxMasterElements = 1 << 22
)

// ebmlReader reads element headers from an in-memory document.
type ebmlReader struct {
	data []byte
	pos  int
}

// vint reads a variable-length integer; keepMarker keeps the length
// marker bit (element IDs) instead of clearing it (sizes, track numbers).
// It returns the value, its length in bytes and whether all value bits
// were ones (an unknown size).
func readVint(b []byte, maxLen int, keepMarker bool) (v uint64, n int, allOnes bool, ok bool) {
	if len(b) == 0 || b[0] == 0 {
		return 0, 0, false, false
	}
	n = bits.LeadingZeros8(b[0]) + 1
	if n > maxLen || n > len(b) {
		return 0, 0, false, false
	}
	v = uint64(b[0])
	if !keepMarker {
		v &= 0xFF >> n
	}
	for _, c := range b[1:n] {
		v = v<<8 | uint64(c)
	}
	valueBits := 7 * n
	return v, n, v == (1<<valueBits)-1 && !keepMarker, true
}

// header reads an element's ID and size (ebmlUnknownSize if unknown) and
// leaves pos at the element's body.
func (r *ebmlReader) header() (id uint32, size int64, err error) {
	b := r.data[r.pos:]
	idv, n, _, ok := readVint(b, 4, true)
	if !ok {
		if len(b) < 4 {
			return 0, 0, truncated("WebM")
		}
		return 0, 0, invalidf("malformed WebM file: bad element ID at byte %d", r.pos)
	}
	sz, m, unknown, ok := readVint(b[n:], 8, false)
	if !ok {
		if len(b)-n < 8 {
			return 0, 0, truncated("WebM")
		}
		return 0, 0, invalidf("malformed WebM file: bad element size at byte %d", r.pos)
	}
	r.pos += n + m
	if unknown {
		return uint32(idv), ebmlUnknownSize, nil
	}
	if sz > uint64(len(r.data)-r.pos) {
		return 0, 0, truncated("WebM")
	}
	return uint32(idv), int64(sz), nil
}

// body returns the next size bytes and moves past them.
func (r *ebmlReader) body(size int64) []byte {
	b := r.data[r.pos : r.pos+int(size)]
	r.pos += int(size)
	return b
}

func beUint(b []byte) uint64 {
	var v uint64
	for _, c := range b[:min(len(b), 8)] {
		v = v<<8 | uint64(c)
	}
	return v
}

func beInt(b []byte) int64 {
	if len(b) == 0 {
		return 0
	}
	v := int64(int8(b[0]))
	for _, c := range b[1:min(len(b), 8)] {
		v = v<<8 | int64(c)
	}
	return v
}

// mkvTrack is the part of a TrackEntry the demuxer needs.
type mkvTrack struct {
	number     uint64
	kind       uint64
	codec      string
	private    []byte
	codecDelay uint64 // ns
}

// demuxWebM finds the first Opus track and collects its frames.
func demuxWebM(data []byte) (*opusInput, error) {
	r := &ebmlReader{data: data}
	if err := readEBMLHeader(r); err != nil {
		return nil, err
	}
	id, size, err := r.header()
	if err != nil {
		return nil, err
	}
	if id != mkvIDSegment {
		return nil, invalidf("malformed WebM file: no Segment after the EBML header")
	}
	end := len(data)
	if size != ebmlUnknownSize {
		end = r.pos + int(size)
	}
	d := &webmDemux{in: &opusInput{container: "WebM/Opus", keep48: -1}}
	for n := 0; r.pos < end; n++ {
		if n > mkvMaxMasterElements {
			return nil, invalidf("malformed WebM file: too many elements")
		}
		if err := d.element(r); err != nil {
			return nil, err
		}
	}
	return d.finish()
}

func readEBMLHeader(r *ebmlReader) error {
	id, size, err := r.header()
	if err != nil {
		return err
	}
	if id != ebmlIDHeader || size == ebmlUnknownSize {
		return invalidf("malformed WebM file: bad EBML header")
	}
	h := &ebmlReader{data: r.body(size)}
	for h.pos < len(h.data) {
		id, size, err := h.header()
		if err != nil {
			return err
		}
		if size == ebmlUnknownSize {
			return invalidf("malformed WebM file: bad EBML header")
		}
		b := h.body(size)
		if id == ebmlIDDocType && string(b) != "webm" && string(b) != "matroska" {
			return invalidf("EBML document type %q is not WebM or Matroska", truncateString(string(b), 32))
		}
	}
	return nil
}

func truncateString(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// webmDemux is the state of one demux pass.
type webmDemux struct {
	in          *opusInput
	track       *mkvTrack
	otherCodec  string // first non-Opus audio codec seen, for the error
	lastDiscard int64  // DiscardPadding (ns) of the most recent block
}

// element handles one element at Segment or Cluster level.
func (d *webmDemux) element(r *ebmlReader) error {
	id, size, err := r.header()
	if err != nil {
		return err
	}
	if id == mkvIDCluster {
		return nil // enter it: its children follow, whatever its size
	}
	if size == ebmlUnknownSize {
		return invalidf("malformed WebM file: element 0x%X has an unknown size", id)
	}
	body := r.body(size)
	switch id {
	case mkvIDTracks:
		return d.tracks(body)
	case mkvIDSimpleBlock:
		d.lastDiscard = 0
		return d.block(body)
	case mkvIDBlockGroup:
		return d.blockGroup(body)
	}
	return nil
}

func (d *webmDemux) tracks(b []byte) error {
	r := &ebmlReader{data: b}
	for n := 0; r.pos < len(b); n++ {
		id, size, err := r.header()
		if err != nil {
			return err
		}
		if size == ebmlUnknownSize || n > mkvMaxTrackEntries {
			return invalidf("malformed WebM file: bad Tracks element")
		}
		body := r.body(size)
		if id != mkvIDTrackEntry || d.track != nil {
			continue
		}
		t, err := parseTrackEntry(body)
		if err != nil {
			return err
		}
		switch {
		case t.kind == mkvTrackTypeAudio && t.codec == "A_OPUS":
			d.track = t
			h, err := parseOpusHead(t.private)
			if err != nil {
				return err
			}
			d.in.head, d.in.preSkip = h, int64(h.preSkip)
			if t.codecDelay > 0 && t.codecDelay < nanosPerSecond {
				d.in.preSkip = int64(t.codecDelay) * opusClock / nanosPerSecond
			}
		case t.kind == mkvTrackTypeAudio && d.otherCodec == "":
			d.otherCodec = truncateString(t.codec, mkvMaxCodecIDLength)
		}
	}
	return nil
}

func parseTrackEntry(b []byte) (*mkvTrack, error) {
	t := &mkvTrack{}
	r := &ebmlReader{data: b}
	for r.pos < len(b) {
		id, size, err := r.header()
		if err != nil {
			return nil, err
		}
		if size == ebmlUnknownSize {
			return nil, invalidf("malformed WebM file: bad TrackEntry element")
		}
		v := r.body(size)
		switch id {
		case mkvIDTrackNumber:
			t.number = beUint(v)
		case mkvIDTrackType:
			t.kind = beUint(v)
		case mkvIDCodecID:
			t.codec = string(v)
		case mkvIDCodecPrivate:
			t.private = v
		case mkvIDCodecDelay:
			t.codecDelay = beUint(v)
		}
	}
	return t, nil
}

func (d *webmDemux) blockGroup(b []byte) error {
	r := &ebmlReader{data: b}
	var block []byte
	d.lastDiscard = 0
	for r.pos < len(b) {
		id, size, err := r.header()
		if err != nil {
			return err
		}
		if size == ebmlUnknownSize {
			return invalidf("malformed WebM file: bad BlockGroup element")
		}
		v := r.body(size)
		switch id {
		case mkvIDBlock:
			block = v
		case mkvIDDiscardPadding:
			d.lastDiscard = beInt(v)
		}
	}
	if block == nil {
		return nil
	}
	return d.block(block)
}

// block parses a (Simple)Block body: track number, relative timecode,
// flags, then one frame or a laced run of frames.
func (d *webmDemux) block(b []byte) error {
	track, n, _, ok := readVint(b, 8, false)
	if !ok || len(b) < n+3 {
		return invalidf("malformed WebM file: bad block header")
	}
	if d.track == nil || track != d.track.number {
		return nil // another track, or frames before the track list
	}
	flags := b[n+2]
	frames, err := unlace(b[n+3:], (flags>>1)&3)
	if err != nil {
		return err
	}
	d.in.packets = append(d.in.packets, frames...)
	return nil
}

// unlace splits a block payload into frames (RFC 9559 §10.3).
func unlace(p []byte, lacing byte) ([][]byte, error) {
	if lacing == 0 {
		return [][]byte{p}, nil
	}
	if len(p) < 1 {
		return nil, invalidf("malformed WebM file: bad block lacing")
	}
	count := int(p[0]) + 1
	p = p[1:]
	sizes := make([]int, count)
	var err error
	switch lacing {
	case 1: // Xiph
		p, err = xiphSizes(p, sizes)
	case 3: // EBML
		p, err = ebmlSizes(p, sizes)
	case 2: // fixed
		if len(p)%count != 0 {
			return nil, invalidf("malformed WebM file: bad block lacing")
		}
		for i := range sizes {
			sizes[i] = len(p) / count
		}
	}
	if err != nil {
		return nil, err
	}
	frames := make([][]byte, 0, count)
	for i, s := range sizes {
		if i == count-1 && lacing != 2 {
			s = len(p)
		}
		if s < 0 || s > len(p) {
			return nil, invalidf("malformed WebM file: bad block lacing")
		}
		frames = append(frames, p[:s])
		p = p[s:]
	}
	return frames, nil
}

// xiphSizes reads count-1 frame sizes coded as runs of 255.
func xiphSizes(p []byte, sizes []int) ([]byte, error) {
	total := 0
	for i := range len(sizes) - 1 {
		s := 0
		for {
			if len(p) == 0 {
				return nil, invalidf("malformed WebM file: bad block lacing")
			}
			c := int(p[0])
			p = p[1:]
			s += c
			if c != 255 {
				break
			}
		}
		sizes[i] = s
		total += s
	}
	if total > len(p) {
		return nil, invalidf("malformed WebM file: bad block lacing")
	}
	return p, nil
}

// ebmlSizes reads the first size as a vint and the next ones as signed
// differences from the previous.
func ebmlSizes(p []byte, sizes []int) ([]byte, error) {
	total := 0
	for i := range len(sizes) - 1 {
		v, n, _, ok := readVint(p, 8, false)
		if !ok {
			return nil, invalidf("malformed WebM file: bad block lacing")
		}
		p = p[n:]
		s := int64(v)
		if i > 0 {
			s = int64(sizes[i-1]) + int64(v) - (int64(1)<<(7*n-1) - 1)
		}
		if s < 0 || s > int64(len(p)) {
			return nil, invalidf("malformed WebM file: bad block lacing")
		}
		sizes[i] = int(s)
		total += int(s)
	}
	if total > len(p) {
		return nil, invalidf("malformed WebM file: bad block lacing")
	}
	return p, nil
}

func (d *webmDemux) finish() (*opusInput, error) {
	switch {
	case d.track == nil && d.otherCodec != "":
		return nil, invalidf("WebM audio codec %s is not supported (only Opus); send %s", d.otherCodec, supportedInputs)
	case d.track == nil:
		return nil, invalidf("WebM file has no audio track")
	case len(d.in.packets) == 0:
		return nil, invalidf("WebM/Opus file contains no audio samples")
	}
	if d.lastDiscard > 0 && d.lastDiscard < nanosPerSecond {
		d.in.discard48 = d.lastDiscard * opusClock / nanosPerSecond
	}
	return d.in, nil
}
