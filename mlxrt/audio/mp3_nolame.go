//go:build !lame || !cgo

package audio

import (
	"io"
	"strings"

	"github.com/ominix/ominix-api/pipeline"
)

// mp3Available reports whether this build links libmp3lame.
const mp3Available = false

func newMP3Encoder(io.Writer, int) (pipeline.AudioEncoder, error) {
	err := unavailable("mp3 output", "lame", "libmp3lame-dev")
	err.Message += "; available: " + strings.Join(EncodeFormats(), ", ")
	err.Param = "response_format"
	return nil, err
}
