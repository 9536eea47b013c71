//go:build !opus || !cgo

package audio

import (
	"io"
	"strings"

	"github.com/ominix/ominix-api/pipeline"
)

// opusAvailable reports whether this build links libopus.
const opusAvailable = false

func opusVersion() string { return "" }

func newOpusDecoder(int, *opusHead) (opusDecoder, error) {
	err := opusUnavailable("Opus audio input (Ogg/Opus, WebM/Opus)")
	err.Param = fileParam
	return nil, err
}

func newOpusEncoder(io.Writer, int) (pipeline.AudioEncoder, error) {
	err := opusUnavailable("opus output")
	err.Message += "; available: " + strings.Join(EncodeFormats(), ", ")
	err.Param = "response_format"
	return nil, err
}

func opusUnavailable(what string) *pipeline.Error {
	return unavailable(what, "opus", "libopus-dev")
}
