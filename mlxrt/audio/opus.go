package audio

import (
	"cmp"
	"encoding/binary"
	"errors"
	"io"
	"math"

	"github.com/ominix/ominix-api/pipeline"
)

// Opus always runs its granule clock (and pre-skip) at 48 kHz.
const opusClock = 48000

// opusMaxFrame is the longest Opus packet, 120 ms, in samples at 48 kHz.
const opusMaxFrame = 5760

// opusHead is the identification header (RFC 7845 §5.1), shared by Ogg
// and Matroska (where it is the track's CodecPrivate).
type opusHead struct {
	channels  int
	preSkip   int
	inputRate int
	gainQ8    int16 // output gain, dB in Q7.8
	family    int
	streams   int
	coupled   int
	mapping   []byte
}

func parseOpusHead(b []byte) (*opusHead, error) {
	if len(b) < 19 || string(b[:8]) != "OpusHead" {
		return nil, invalidf("malformed Opus stream: missing or short OpusHead header")
	}
	if b[8]>>4 != 0 {
		return nil, invalidf("Opus stream has unsupported header version %d", b[8])
	}
	h := &opusHead{
		channels:  int(b[9]),
		preSkip:   int(binary.LittleEndian.Uint16(b[10:])),
		inputRate: int(binary.LittleEndian.Uint32(b[12:])),
		gainQ8:    int16(binary.LittleEndian.Uint16(b[16:])),
		family:    int(b[18]),
	}
	switch h.family {
	case 0:
		if h.channels < 1 || h.channels > 2 {
			return nil, invalidf("Opus stream declares %d channels for mapping family 0 (must be 1 or 2)", h.channels)
		}
		h.streams, h.coupled = 1, h.channels-1
	case 1:
		if h.channels < 1 || h.channels > 8 || len(b) < 21+h.channels {
			return nil, invalidf("Opus stream has a malformed channel mapping for %d channels", h.channels)
		}
		h.streams, h.coupled = int(b[19]), int(b[20])
		h.mapping = b[21 : 21+h.channels]
		if h.streams < 1 || h.coupled > h.streams || h.streams+h.coupled > 255 {
			return nil, invalidf("Opus stream has an invalid stream count (%d streams, %d coupled)", h.streams, h.coupled)
		}
		for _, m := range h.mapping {
			if m != 255 && int(m) >= h.streams+h.coupled {
				return nil, invalidf("Opus stream maps a channel to a stream that does not exist")
			}
		}
	default:
		return nil, invalidf("Opus channel mapping family %d is not supported (supported: mono, stereo, surround up to 8 channels)", h.family)
	}
	return h, nil
}

// decodeRate is the rate the stream is decoded at: the original input rate
// when libopus can decode to it directly, else 48 kHz.
func (h *opusHead) decodeRate() int {
	switch h.inputRate {
	case 8000, 12000, 16000, 24000:
		return h.inputRate
	}
	return opusClock
}

// opusInput is a demuxed Opus stream, from Ogg or WebM.
type opusInput struct {
	container string
	head      *opusHead
	preSkip   int64 // 48 kHz samples to drop at the start
	packets   [][]byte
	keep48    int64 // Ogg: final granule position (samples to keep, pre-skip included); -1 if unknown
	discard48 int64 // WebM: DiscardPadding of the last block, samples to drop at the end
}

// opusDecoder turns Opus packets into mono samples; implemented with
// libopus under the opus build tag.
type opusDecoder interface {
	decode(dst []float32, packet []byte) ([]float32, error)
	close()
}

// decodeOpus decodes the packets and applies pre-skip, end trimming and the
// header's output gain.
func decodeOpus(in *opusInput, lim limits) (pipeline.Audio, error) {
	rate := in.head.decodeRate()
	dec, err := newOpusDecoder(rate, in.head)
	if err != nil {
		return pipeline.Audio{}, err
	}
	defer dec.close()
	scale := func(n48 int64) int64 { return n48 * int64(rate) / opusClock }
	skip := scale(in.preSkip)
	maxOut := lim.maxSamples(rate)
	c := &collector{rate: rate, lim: lim, max: maxOut + skip + scale(opusMaxFrame)}
	for _, pkt := range in.packets {
		if len(pkt) == 0 {
			continue
		}
		if c.samples, err = dec.decode(c.samples, pkt); err != nil {
			return pipeline.Audio{}, err
		}
		if c.room() < 0 {
			return pipeline.Audio{}, lim.tooLong()
		}
	}
	end := int64(len(c.samples))
	if in.keep48 >= 0 && scale(in.keep48) < end {
		end = scale(in.keep48)
	}
	end -= scale(in.discard48)
	if skip >= end {
		return pipeline.Audio{}, invalidf("%s file contains no audio samples", in.container)
	}
	out := c.samples[skip:end]
	if int64(len(out)) > maxOut {
		return pipeline.Audio{}, lim.tooLong()
	}
	if in.head.gainQ8 != 0 {
		g := float32(math.Pow(10, float64(in.head.gainQ8)/(20*256)))
		for i := range out {
			out[i] = finite(out[i] * g)
		}
	}
	return pipeline.Audio{Rate: rate, Samples: out}, nil
}

// demuxOggOpus collects the packets of the first Opus stream of an Ogg file
// (other multiplexed streams are ignored; chained streams after it too).
func demuxOggOpus(data []byte) (*opusInput, error) {
	r := &oggReader{data: data}
	d := &oggOpusDemux{in: &opusInput{container: "Ogg/Opus", keep48: -1}}
	for {
		pg, err := r.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if !d.found {
			// Every stream's first (BOS) page precedes all data pages.
			if pg.flags&oggBOS == 0 {
				break
			}
			if err := oggCodecCheck(pg.body); err != nil {
				d.firstErr = cmp.Or(d.firstErr, err)
				continue
			}
			d.found, d.serial = true, pg.serial
		}
		if pg.serial != d.serial {
			continue
		}
		if err := d.pkts.add(pg, d.packet); err != nil {
			return nil, err
		}
		if pg.granule >= 0 && len(d.in.packets) > 0 {
			d.in.keep48 = pg.granule
		}
		if pg.flags&oggEOS != 0 {
			break
		}
	}
	return d.finish()
}

// oggOpusDemux is the state of one demuxOggOpus pass.
type oggOpusDemux struct {
	in       *opusInput
	serial   uint32
	found    bool
	firstErr error // why the first stream is not Opus
	pkts     oggPacketizer
	npkt     int
}

// packet takes the Opus stream's packets: OpusHead, OpusTags, then audio.
func (d *oggOpusDemux) packet(p []byte) error {
	d.npkt++
	switch d.npkt {
	case 1:
		h, err := parseOpusHead(p)
		if err != nil {
			return err
		}
		d.in.head, d.in.preSkip = h, int64(h.preSkip)
	case 2: // OpusTags: comments are not needed
	default:
		d.in.packets = append(d.in.packets, p)
	}
	return nil
}

func (d *oggOpusDemux) finish() (*opusInput, error) {
	switch {
	case !d.found && d.firstErr != nil:
		return nil, d.firstErr
	case !d.found:
		return nil, invalidf("malformed Ogg file: no stream starts at the first page")
	case d.pkts.open:
		return nil, truncated("Ogg/Opus")
	case len(d.in.packets) == 0:
		return nil, invalidf("Ogg/Opus file contains no audio samples")
	}
	return d.in, nil
}

// oggCodecCheck names the codec of a stream's first packet when it is not
// Opus.
func oggCodecCheck(first []byte) error {
	switch {
	case len(first) >= 8 && string(first[:8]) == "OpusHead":
		return nil
	case len(first) >= 7 && string(first[1:7]) == "vorbis":
		return invalidf("Ogg/Vorbis is not supported; send %s", supportedInputs)
	case len(first) >= 5 && string(first[1:5]) == "FLAC":
		return invalidf("FLAC in Ogg is not supported; send plain FLAC or %s", supportedInputs)
	case len(first) >= 8 && string(first[:8]) == "Speex   ":
		return invalidf("Ogg/Speex is not supported; send %s", supportedInputs)
	}
	return invalidf("Ogg file has no Opus audio stream; send %s", supportedInputs)
}

// opusEncodeRate is the rate libopus is fed at: the output rate when
// libopus takes it directly, else 48 kHz.
func opusEncodeRate(rate int) int {
	switch rate {
	case 8000, 12000, 16000, 24000, 48000:
		return rate
	}
	return opusClock
}

// opusFrameMs is the duration of each encoded packet.
const opusFrameMs = 20

// opusCodec is a libopus encoder (opus build tag).
type opusCodec interface {
	encode(dst []byte, pcm []float32) ([]byte, error)
	lookahead() int // samples at the encoder's rate
	close()
}

// opusEncoder streams mono Opus in Ogg (RFC 7845): the OpusHead and
// OpusTags pages, then one page of 20 ms packets per Write. The header's
// pre-skip is the encoder's lookahead, granule positions count 48 kHz
// samples, and the last page's granule trims the padding of the final
// packet so decoders return exactly the samples written.
type opusEncoder struct {
	w       io.Writer
	rs      resampling
	codec   opusCodec
	og      oggWriter
	rate    int // declared output rate (OpusHead input_sample_rate)
	frame   int // samples per packet at rs.out
	preSkip int64
	pending []float32
	in      int64 // samples written, at rs.out
	encoded int64 // samples encoded (with padding), at rs.out
	started bool
	closed  bool
	pkt     []byte
}

func newOpusEncoderWith(w io.Writer, rate int, codec opusCodec, serial uint32) *opusEncoder {
	encRate := opusEncodeRate(rate)
	e := &opusEncoder{
		w:     w,
		rs:    resampling{out: encRate},
		codec: codec,
		og:    oggWriter{w: w, serial: serial},
		rate:  rate,
		frame: encRate * opusFrameMs / 1000,
	}
	e.preSkip = int64(codec.lookahead()) * opusClock / int64(encRate)
	return e
}

func (e *opusEncoder) ContentType() string { return "audio/ogg" }

func (e *opusEncoder) Write(a pipeline.Audio) error {
	if e.closed {
		return errClosed
	}
	s, err := e.rs.convert(a)
	if err != nil {
		return err
	}
	if err := e.headers(); err != nil {
		return err
	}
	e.in += int64(len(s))
	e.pending = append(e.pending, s...)
	if err := e.encodeFrames(); err != nil {
		return err
	}
	return e.og.flush(0)
}

// Close pads the stream so the encoder's lookahead is flushed, writes the
// last page with the exact final granule and frees the libopus encoder.
func (e *opusEncoder) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	defer e.codec.close()
	s := e.rs.flush()
	if err := e.headers(); err != nil {
		return err
	}
	e.in += int64(len(s))
	e.pending = append(e.pending, s...)
	// Encode lookahead samples past the end so the decoder can output the
	// last real ones, padded to whole packets.
	need := max(e.in+int64(e.codec.lookahead())-e.encoded, 1)
	pad := (need+int64(e.frame)-1)/int64(e.frame)*int64(e.frame) - int64(len(e.pending))
	e.pending = append(e.pending, make([]float32, max(pad, 0))...)
	if err := e.encodeFrames(); err != nil {
		return err
	}
	// The final granule counts only real samples (after the pre-skip);
	// it is at most the last packet's nominal end, which is what trims.
	e.og.granule = e.preSkip + e.in*opusClock/int64(e.rs.out)
	return e.og.flush(oggEOS)
}

func (e *opusEncoder) encodeFrames() error {
	n := 0
	for ; n+e.frame <= len(e.pending); n += e.frame {
		pkt, err := e.codec.encode(e.pkt[:0], e.pending[n:n+e.frame])
		if err != nil {
			return err
		}
		e.pkt = pkt
		e.encoded += int64(e.frame)
		granule := e.encoded * opusClock / int64(e.rs.out)
		if err := e.og.add(pkt, granule); err != nil {
			return err
		}
	}
	e.pending = append(e.pending[:0], e.pending[n:]...)
	return nil
}

// headers writes OpusHead and OpusTags, each on its own page.
func (e *opusEncoder) headers() error {
	if e.started {
		return nil
	}
	e.started = true
	head := append([]byte("OpusHead"), 1, 1)
	head = binary.LittleEndian.AppendUint16(head, uint16(e.preSkip))
	head = binary.LittleEndian.AppendUint32(head, uint32(e.rate))
	head = append(head, 0, 0, 0) // gain 0 dB, mapping family 0
	if err := e.og.add(head, 0); err != nil {
		return err
	}
	if err := e.og.flush(oggBOS); err != nil {
		return err
	}
	vendor := "ominix-api " + opusVersion()
	tags := append([]byte("OpusTags"), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(tags[8:], uint32(len(vendor)))
	tags = append(tags, vendor...)
	tags = append(tags, 0, 0, 0, 0) // no comments
	if err := e.og.add(tags, 0); err != nil {
		return err
	}
	return e.og.flush(0)
}
