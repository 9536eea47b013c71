//go:build opus && cgo

package audio

/*
#cgo pkg-config: opus
#include <stdlib.h>
#include <opus.h>
#include <opus_multistream.h>

// The ctl requests are variadic macros, which cgo cannot call.
static int ominix_opus_set_bitrate(OpusEncoder *e, opus_int32 v) { return opus_encoder_ctl(e, OPUS_SET_BITRATE(v)); }
static int ominix_opus_set_signal_voice(OpusEncoder *e) { return opus_encoder_ctl(e, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE)); }
static int ominix_opus_set_complexity(OpusEncoder *e, opus_int32 v) { return opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(v)); }
static int ominix_opus_lookahead(OpusEncoder *e, opus_int32 *v) { return opus_encoder_ctl(e, OPUS_GET_LOOKAHEAD(v)); }
*/
import "C"

import (
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"unsafe"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/dsp"
)

// opusAvailable reports whether this build links libopus.
const opusAvailable = true

func opusVersion() string { return C.GoString(C.opus_get_version_string()) }

func opusError(code C.int) string { return C.GoString(C.opus_strerror(code)) }

// libopusDecoder decodes mono (libopus mixes stereo down itself) or, for
// surround streams, every channel, which are then averaged.
type libopusDecoder struct {
	mono     *C.OpusDecoder
	ms       *C.OpusMSDecoder
	channels int
	maxFrame int
	pcm      []float32
}

func newOpusDecoder(rate int, h *opusHead) (opusDecoder, error) {
	d := &libopusDecoder{channels: 1, maxFrame: opusMaxFrame * rate / opusClock}
	var code C.int
	if h.family == 0 {
		d.mono = C.opus_decoder_create(C.opus_int32(rate), 1, &code)
	} else {
		d.channels = h.channels
		mapping := (*C.uchar)(unsafe.Pointer(&h.mapping[0]))
		d.ms = C.opus_multistream_decoder_create(C.opus_int32(rate), C.int(h.channels), C.int(h.streams), C.int(h.coupled), mapping, &code)
	}
	if code != C.OPUS_OK {
		return nil, invalidf("Opus stream cannot be decoded: %s", opusError(code))
	}
	d.pcm = make([]float32, d.maxFrame*d.channels)
	return d, nil
}

func (d *libopusDecoder) decode(dst []float32, packet []byte) ([]float32, error) {
	data := (*C.uchar)(unsafe.Pointer(&packet[0]))
	pcm := (*C.float)(unsafe.Pointer(&d.pcm[0]))
	var n C.int
	if d.mono != nil {
		n = C.opus_decode_float(d.mono, data, C.opus_int32(len(packet)), pcm, C.int(d.maxFrame), 0)
	} else {
		n = C.opus_multistream_decode_float(d.ms, data, C.opus_int32(len(packet)), pcm, C.int(d.maxFrame), 0)
	}
	if n < 0 {
		return dst, invalidf("corrupt Opus packet: %s", opusError(n))
	}
	return dsp.Downmix(dst, d.pcm[:int(n)*d.channels], d.channels), nil
}

func (d *libopusDecoder) close() {
	if d.mono != nil {
		C.opus_decoder_destroy(d.mono)
		d.mono = nil
	}
	if d.ms != nil {
		C.opus_multistream_decoder_destroy(d.ms)
		d.ms = nil
	}
}

// opusBitrate is the encoder's target: plenty for mono speech.
const opusBitrate = 32000

// opusComplexity trades encoder CPU for quality (0..10, libopus default
// 10); 5 roughly doubles throughput with no audible loss on speech at
// this bitrate, which matters when many TTS streams share two cores.
const opusComplexity = 5

type libopusEncoder struct {
	enc     *C.OpusEncoder
	look    int
	cleanup runtime.Cleanup
}

func newLibopusEncoder(rate int) (*libopusEncoder, error) {
	var code C.int
	enc := C.opus_encoder_create(C.opus_int32(rate), 1, C.OPUS_APPLICATION_AUDIO, &code)
	if code != C.OPUS_OK {
		return nil, fmt.Errorf("opus encoder: %s", opusError(code))
	}
	e := &libopusEncoder{enc: enc}
	// Free libopus's state even if a caller forgets Close.
	e.cleanup = runtime.AddCleanup(e, func(p *C.OpusEncoder) { C.opus_encoder_destroy(p) }, enc)
	var look C.opus_int32
	if c := C.ominix_opus_set_bitrate(enc, opusBitrate); c != C.OPUS_OK {
		e.close()
		return nil, fmt.Errorf("opus encoder: set bitrate: %s", opusError(c))
	}
	C.ominix_opus_set_signal_voice(enc)
	C.ominix_opus_set_complexity(enc, opusComplexity)
	if c := C.ominix_opus_lookahead(enc, &look); c != C.OPUS_OK {
		e.close()
		return nil, fmt.Errorf("opus encoder: lookahead: %s", opusError(c))
	}
	e.look = int(look)
	return e, nil
}

// opusMaxPacket is libopus's recommended output buffer size.
const opusMaxPacket = 4000

func (e *libopusEncoder) encode(dst []byte, pcm []float32) ([]byte, error) {
	dst = append(dst[:0], make([]byte, opusMaxPacket)...)
	n := C.opus_encode_float(e.enc, (*C.float)(unsafe.Pointer(&pcm[0])), C.int(len(pcm)),
		(*C.uchar)(unsafe.Pointer(&dst[0])), opusMaxPacket)
	if n < 0 {
		return nil, fmt.Errorf("opus encode: %s", opusError(n))
	}
	return dst[:n], nil
}

func (e *libopusEncoder) lookahead() int { return e.look }

func (e *libopusEncoder) close() {
	if e.enc != nil {
		e.cleanup.Stop()
		C.opus_encoder_destroy(e.enc)
		e.enc = nil
	}
}

func newOpusEncoder(w io.Writer, rate int) (pipeline.AudioEncoder, error) {
	codec, err := newLibopusEncoder(opusEncodeRate(rate))
	if err != nil {
		return nil, err
	}
	return newOpusEncoderWith(w, rate, codec, rand.Uint32()), nil
}
