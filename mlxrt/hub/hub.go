package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// ErrOffline is wrapped by Resolve's error when the files are not cached and
// the hub may not (HF_HUB_OFFLINE) or cannot be reached.
var ErrOffline = errors.New("model not in the local cache")

// ErrNotFound is wrapped when the hub says the repository, revision or a
// file does not exist (or is private and no token was given).
var ErrNotFound = errors.New("not found on the hub")

// ErrDenied is wrapped when the hub refuses access (gated or private repo).
var ErrDenied = errors.New("access denied by the hub")

// ErrIntegrity is wrapped when a download does not match the size or hash
// the hub declared; nothing is added to the cache.
var ErrIntegrity = errors.New("download failed verification")

// ErrTooLarge is wrapped when the hub declares files beyond the configured
// caps.
var ErrTooLarge = errors.New("model files exceed the size limit")

// DefaultEndpoint is the Hugging Face hub.
const DefaultEndpoint = "https://huggingface.co"

// Options configure Resolve. A nil *Options means all defaults; use
// OptionsFromEnv to read the standard HF_* variables.
type Options struct {
	// Endpoint is the hub URL. Empty means https://huggingface.co.
	Endpoint string
	// Token is sent as "Authorization: Bearer" to the endpoint's host only,
	// never to a CDN the hub redirects to (as huggingface_hub does). Empty
	// means anonymous.
	Token string
	// CacheDir is the hub cache root. Empty means ~/.cache/huggingface/hub.
	CacheDir string
	// Offline uses the cache only (HF_HUB_OFFLINE=1).
	Offline bool
	// Revision is a branch, tag or commit. Empty means "main".
	Revision string
	// Client makes the requests; Resolve handles redirects itself. Nil means
	// a client with connect, TLS and response-header timeouts but no overall
	// timeout (weights are large).
	Client *http.Client
	// MaxFileBytes caps the size of one file the hub declares. Zero means
	// 64 GiB.
	MaxFileBytes int64
	// MaxTotalBytes caps the sum of the files to fetch. Zero means 512 GiB.
	MaxTotalBytes int64
	// Progress, when non-nil, receives a progress bar line per file (give
	// it a terminal). When nil, progress is logged through Logger.
	Progress io.Writer
	// Logger receives progress lines and warnings. Nil means slog.Default().
	Logger *slog.Logger
	// Include selects the repository files to fetch. Nil means
	// DefaultInclude.
	Include func(name string) bool
	// Retries is how many times an interrupted download is resumed. Zero
	// means 5; negative means none.
	Retries int
}

func (o *Options) resolved() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Endpoint == "" {
		r.Endpoint = DefaultEndpoint
	}
	r.Endpoint = strings.TrimRight(r.Endpoint, "/")
	if r.CacheDir == "" {
		r.CacheDir = defaultCacheDir(os.Getenv)
	}
	if r.Revision == "" {
		r.Revision = "main"
	}
	if r.Client == nil {
		r.Client = defaultClient()
	}
	if r.MaxFileBytes <= 0 {
		r.MaxFileBytes = 64 << 30
	}
	if r.MaxTotalBytes <= 0 {
		r.MaxTotalBytes = 512 << 30
	}
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
	if r.Include == nil {
		r.Include = DefaultInclude
	}
	if r.Retries == 0 {
		r.Retries = 5
	}
	return r
}

func defaultClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
	}}
}

// OptionsFromEnv reads HF_ENDPOINT, HF_TOKEN (or HUGGING_FACE_HUB_TOKEN, or
// the token file at HF_TOKEN_PATH or $HF_HOME/token), HF_HUB_CACHE (or
// HUGGINGFACE_HUB_CACHE, or $HF_HOME/hub), HF_HOME (default
// $XDG_CACHE_HOME/huggingface or ~/.cache/huggingface) and HF_HUB_OFFLINE
// (1/ON/YES/TRUE), as huggingface_hub does. Call it once at start-up.
func OptionsFromEnv() *Options { return OptionsFromEnvFunc(os.Getenv) }

// OptionsFromEnvFunc is OptionsFromEnv with a custom variable lookup.
func OptionsFromEnvFunc(getenv func(string) string) *Options {
	o := &Options{
		Endpoint: strings.TrimRight(getenv("HF_ENDPOINT"), "/"),
		CacheDir: defaultCacheDir(getenv),
	}
	switch strings.ToUpper(strings.TrimSpace(getenv("HF_HUB_OFFLINE"))) {
	case "1", "ON", "YES", "TRUE":
		o.Offline = true
	}
	o.Token = strings.TrimSpace(getenv("HF_TOKEN"))
	if o.Token == "" {
		o.Token = strings.TrimSpace(getenv("HUGGING_FACE_HUB_TOKEN"))
	}
	if o.Token == "" {
		p := getenv("HF_TOKEN_PATH")
		if p == "" {
			p = filepath.Join(hfHome(getenv), "token")
		}
		if b, err := readSmall(p, 4096); err == nil {
			o.Token = strings.TrimSpace(string(b))
		}
	}
	return o
}

func hfHome(getenv func(string) string) string {
	if h := getenv("HF_HOME"); h != "" {
		return h
	}
	if x := getenv("XDG_CACHE_HOME"); x != "" {
		return filepath.Join(x, "huggingface")
	}
	home := getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return filepath.Join(home, ".cache", "huggingface")
}

func defaultCacheDir(getenv func(string) string) string {
	if c := getenv("HF_HUB_CACHE"); c != "" {
		return c
	}
	if c := getenv("HUGGINGFACE_HUB_CACHE"); c != "" {
		return c
	}
	return filepath.Join(hfHome(getenv), "hub")
}

func readSmall(p string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}

var (
	repoPart   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	commitHash = regexp.MustCompile(`^[0-9a-f]{40}$`)
)

// IsRepoID reports whether s has the form of a hub repo id ("org/name", or
// a bare "name"): letters, digits, '-', '_' and '.', no "--" or "..", at
// most 96 characters. A string that is also an existing local path is the
// caller's to decide; check the file system first.
func IsRepoID(s string) bool {
	if len(s) == 0 || len(s) > 96 || strings.Contains(s, "--") || strings.Contains(s, "..") {
		return false
	}
	parts := strings.Split(s, "/")
	if len(parts) > 2 {
		return false
	}
	for _, p := range parts {
		if !repoPart.MatchString(p) || strings.HasSuffix(p, ".") || strings.HasSuffix(p, "-") {
			return false
		}
	}
	return true
}

// validRevision rejects revisions that could escape refs/ or break URLs.
func validRevision(rev string) bool {
	if rev == "" || len(rev) > 256 || strings.ContainsAny(rev, "\\\x00") || strings.HasPrefix(rev, "/") {
		return false
	}
	for _, part := range strings.Split(rev, "/") {
		if part == "" || part == "." || part == ".." {
			return false
		}
	}
	return true
}

// DefaultInclude reports whether a repository file is one an LLM needs:
// configs, tokenizer files, chat templates and safetensors weights (other
// weight formats are skipped).
func DefaultInclude(name string) bool {
	switch name {
	case "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
		"chat_template.jinja", "special_tokens_map.json", "model.safetensors.index.json":
		return true
	}
	if strings.HasPrefix(name, "additional_chat_templates/") && strings.HasSuffix(name, ".jinja") {
		return true
	}
	return !strings.Contains(name, "/") && strings.HasSuffix(name, ".safetensors")
}

// safeRepoPath reports whether a file name from the hub is a clean relative
// path that stays inside a snapshot directory.
func safeRepoPath(name string) bool {
	if name == "" || len(name) > 1024 || strings.ContainsAny(name, "\\\x00") || strings.HasPrefix(name, "/") {
		return false
	}
	if path.Clean(name) != name {
		return false
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" || part == "." || part == ".." {
			return false
		}
	}
	return filepath.IsLocal(filepath.FromSlash(name))
}

// Resolve returns the local snapshot directory of repoID ("org/name") at
// opts.Revision, downloading the missing files opts.Include selects into the
// cache first. Offline, or when the hub cannot be reached or fails, it falls
// back to a complete cached snapshot of that revision. Cancelling ctx stops
// downloads; partial files stay in blobs/ for a later resume. Safe to call
// from several goroutines and processes at once: blobs are written under a
// file lock and moved into place atomically.
func Resolve(ctx context.Context, repoID string, opts *Options) (string, error) {
	owned := opts == nil || opts.Client == nil
	o := opts.resolved()
	if owned {
		// A client made here must not leave idle connections behind.
		defer o.Client.CloseIdleConnections()
	}
	if !IsRepoID(repoID) {
		return "", fmt.Errorf("resolve %q: not a hub repo id (want org/name)", repoID)
	}
	if !validRevision(o.Revision) {
		return "", fmt.Errorf("resolve %s: invalid revision %q", repoID, o.Revision)
	}
	c := newCache(o.CacheDir, repoID)
	if o.Offline {
		dir, err := c.snapshot(o.Revision)
		if err != nil {
			return "", fmt.Errorf("resolve %s: HF_HUB_OFFLINE is set and %w (%v); download it once with network access, or pass a local directory", repoID, ErrOffline, err)
		}
		return dir, nil
	}
	h := newHubClient(o, repoID)
	dir, err := h.download(ctx, c)
	if err == nil {
		return dir, nil
	}
	if ctx.Err() != nil || !fallbackOK(err) {
		return "", fmt.Errorf("resolve %s: %w", repoID, err)
	}
	cached, cerr := c.snapshot(o.Revision)
	if cerr != nil {
		return "", unreachable(o, repoID, err)
	}
	o.Logger.Warn("hub unavailable, using the cached snapshot", "repo", repoID, "revision", o.Revision, "err", err)
	return cached, nil
}

// unreachable explains what to do when the hub cannot be used and nothing
// is cached.
func unreachable(o Options, repoID string, cause error) error {
	return fmt.Errorf("cannot reach %s to download %s (%v): %w; set HF_ENDPOINT to a mirror, "+
		"pre-populate the cache (%s) with `huggingface-cli download %s`, or pass a local directory",
		o.Endpoint, repoID, cause, ErrOffline, o.CacheDir, repoID)
}

// fallbackOK reports whether an error lets Resolve fall back to the cache:
// network failures and hub errors, but not integrity, size or cancellation
// errors.
func fallbackOK(err error) bool {
	var ne *netError
	var he *httpError
	switch {
	case errors.As(err, &ne):
		return true
	case errors.As(err, &he):
		// Like huggingface_hub: hub outages and refused access fall back to
		// the cache; a repository or revision that does not exist does not.
		return he.status >= 500 || he.status == http.StatusUnauthorized ||
			he.status == http.StatusForbidden || he.status == http.StatusTooManyRequests
	}
	return false
}
