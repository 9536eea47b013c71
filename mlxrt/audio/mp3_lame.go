//go:build lame && cgo

package audio

/*
#cgo LDFLAGS: -lmp3lame
#include <stdlib.h>
#include <lame/lame.h>
*/
import "C"

import (
	"fmt"
	"io"
	"runtime"
	"unsafe"

	"github.com/ominix/ominix-api/pipeline"
)

// mp3Available reports whether this build links libmp3lame.
const mp3Available = true

// mp3Encoder streams constant-bitrate mono MP3 through LAME. No Xing/LAME
// tag is written (it needs a seek back), so decoders see LAME's usual
// encoder delay of about 1100 samples of leading silence.
type mp3Encoder struct {
	w       io.Writer
	rs      resampling
	gfp     *C.lame_global_flags
	cleanup runtime.Cleanup
	closed  bool
	out     []byte
}

func newMP3Encoder(w io.Writer, rate int) (pipeline.AudioEncoder, error) {
	rate = mp3Rate(rate)
	gfp := C.lame_init()
	if gfp == nil {
		return nil, fmt.Errorf("mp3 encoder: lame_init failed")
	}
	C.lame_set_num_channels(gfp, 1)
	C.lame_set_in_samplerate(gfp, C.int(rate))
	C.lame_set_out_samplerate(gfp, C.int(rate))
	C.lame_set_mode(gfp, C.MONO)
	C.lame_set_brate(gfp, C.int(mp3Bitrate(rate)))
	C.lame_set_quality(gfp, 5)
	C.lame_set_bWriteVbrTag(gfp, 0)
	if C.lame_init_params(gfp) < 0 {
		C.lame_close(gfp)
		return nil, fmt.Errorf("mp3 encoder: LAME rejected %d Hz mono at %d kbit/s", rate, mp3Bitrate(rate))
	}
	e := &mp3Encoder{w: w, rs: resampling{out: rate}, gfp: gfp}
	// Free LAME's state even if a caller forgets Close.
	e.cleanup = runtime.AddCleanup(e, func(g *C.lame_global_flags) { C.lame_close(g) }, gfp)
	return e, nil
}

func (e *mp3Encoder) ContentType() string { return "audio/mpeg" }

func (e *mp3Encoder) Write(a pipeline.Audio) error {
	if e.closed {
		return errClosed
	}
	s, err := e.rs.convert(a)
	if err != nil {
		return err
	}
	return e.encode(s)
}

func (e *mp3Encoder) encode(s []float32) error {
	for len(s) > 0 {
		n := min(len(s), 8192)
		size := n*5/4 + 7200 // LAME's worst case
		if cap(e.out) < size {
			e.out = make([]byte, size)
		}
		pcm := (*C.float)(unsafe.Pointer(&s[0]))
		got := C.lame_encode_buffer_ieee_float(e.gfp, pcm, pcm, C.int(n), (*C.uchar)(unsafe.Pointer(&e.out[0])), C.int(size))
		if got < 0 {
			return fmt.Errorf("mp3 encoder: lame_encode_buffer_ieee_float returned %d", int(got))
		}
		if err := e.emit(int(got)); err != nil {
			return err
		}
		s = s[n:]
	}
	return nil
}

func (e *mp3Encoder) emit(n int) error {
	if n == 0 {
		return nil
	}
	_, err := e.w.Write(e.out[:n])
	return err
}

// Close encodes the resampler's tail, flushes LAME's last frames and frees
// the encoder.
func (e *mp3Encoder) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	defer func() {
		e.cleanup.Stop()
		C.lame_close(e.gfp)
		e.gfp = nil
	}()
	if err := e.encode(e.rs.flush()); err != nil {
		return err
	}
	if cap(e.out) < 7200 {
		e.out = make([]byte, 7200)
	}
	got := C.lame_encode_flush(e.gfp, (*C.uchar)(unsafe.Pointer(&e.out[0])), C.int(cap(e.out)))
	if got < 0 {
		return fmt.Errorf("mp3 encoder: lame_encode_flush returned %d", int(got))
	}
	return e.emit(int(got))
}

// mp3Rates are the sample rates of MPEG-1 and MPEG-2 Layer III. MPEG-2.5
// (8 to 12 kHz) is left out: many decoders, go-mp3 among them, lack it.
var mp3Rates = []int{16000, 22050, 24000, 32000, 44100, 48000}

// mp3Rate is the smallest MP3 rate at or above rate (16 to 48 kHz).
func mp3Rate(rate int) int {
	for _, r := range mp3Rates {
		if r >= rate {
			return r
		}
	}
	return 48000
}

// mp3Bitrate is the constant bitrate (kbit/s) used for mono speech.
func mp3Bitrate(rate int) int {
	if rate <= 24000 {
		return 64
	}
	return 128
}
