package hub

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
)

// ErrOffline is wrapped by Resolve's error when the files are not cached and
// the hub may not (HF_HUB_OFFLINE) or cannot be reached.
var ErrOffline = errors.New("model not in the local cache")

// Options configure Resolve. A nil *Options means all defaults; use
// OptionsFromEnv to read the standard HF_* variables.
type Options struct {
	// Endpoint is the hub URL. Empty means https://huggingface.co.
	Endpoint string
	// Token is sent as "Authorization: Bearer" to the endpoint's host only
	// (never to a CDN the hub redirects to). Empty means anonymous.
	Token string
	// CacheDir is the hub cache root. Empty means ~/.cache/huggingface/hub.
	CacheDir string
	// Offline uses the cache only (HF_HUB_OFFLINE=1).
	Offline bool
	// Revision is a branch, tag or commit. Empty means "main".
	Revision string
	// Client makes the requests. Nil means a client with connect and header
	// timeouts but no overall timeout (weights are large).
	Client *http.Client
	// MaxFileBytes caps the size of one file the hub declares. Zero means
	// 64 GiB.
	MaxFileBytes int64
	// MaxTotalBytes caps the sum of the files to download. Zero means 512 GiB.
	MaxTotalBytes int64
	// Progress, when non-nil, receives a progress bar per file (use a
	// terminal). When nil, progress is logged through Logger.
	Progress io.Writer
	// Logger receives progress lines and warnings. Nil means slog.Default().
	Logger *slog.Logger
	// Include selects the repository files to fetch. Nil means the files an
	// LLM needs (DefaultInclude).
	Include func(name string) bool
}

// OptionsFromEnv reads HF_ENDPOINT, HF_TOKEN (or the token file under
// HF_HOME), HF_HUB_CACHE, HF_HOME and HF_HUB_OFFLINE. Call it once at
// start-up.
func OptionsFromEnv() *Options { panic("todo") }

// Resolve returns the local snapshot directory of repoID ("org/name") at
// opts.Revision, downloading missing files into the cache first. Offline or
// when the hub is unreachable, it falls back to a complete cached snapshot.
// Cancelling ctx stops downloads; partial files stay for a later resume.
func Resolve(ctx context.Context, repoID string, opts *Options) (string, error) { panic("todo") }

// IsRepoID reports whether s looks like a hub repo id ("org/name") rather
// than a local path.
func IsRepoID(s string) bool { panic("todo") }

// DefaultInclude reports whether a repository file is one an LLM needs.
func DefaultInclude(name string) bool { panic("todo") }
