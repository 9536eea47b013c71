//go:build !(cgo && flite)

package flite

import "github.com/ominix/ominix-api/pipeline"

// errUnavailable says how to get the engine: this binary was built without
// the flite build tag (or without cgo).
var errUnavailable = &pipeline.Error{
	Kind: pipeline.KindUnavailable,
	Code: "engine_unavailable",
	Message: "flite speech synthesis is not compiled into this server: " +
		"install it (apt-get install flite1-dev) and build with -tags flite (make build does this)",
}

// Available reports why the engine cannot be used: it is not compiled in.
func Available() error { return errUnavailable }

// New fails: the engine is not compiled in. The error is a KindUnavailable
// *pipeline.Error naming the Debian package to install.
func New(opts *Options) (pipeline.Synthesizer, error) { return nil, errUnavailable }
