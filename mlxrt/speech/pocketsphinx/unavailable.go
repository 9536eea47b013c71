//go:build !(cgo && pocketsphinx)

package pocketsphinx

import (
	"context"

	"github.com/ominix/ominix-api/pipeline"
)

// errUnavailable says how to get the engine: this binary was built without
// the pocketsphinx build tag (or without cgo).
var errUnavailable = &pipeline.Error{
	Kind: pipeline.KindUnavailable,
	Code: "engine_unavailable",
	Message: "pocketsphinx speech recognition is not compiled into this server: " +
		"install it (apt-get install libpocketsphinx-dev pocketsphinx-en-us) and build with -tags pocketsphinx (make build does this)",
}

// Available reports why the engine cannot be used: it is not compiled in.
func Available() error { return errUnavailable }

// New fails: the engine is not compiled in. The error is a KindUnavailable
// *pipeline.Error naming the Debian packages to install.
func New(ctx context.Context, paths ModelPaths, opts *Options) (pipeline.Transcriber, error) {
	return nil, errUnavailable
}
