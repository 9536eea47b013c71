package hub

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// netError is a failure to talk to the hub at all (DNS, connect, TLS,
// timeouts, dropped connections).
type netError struct{ err error }

func (e *netError) Error() string { return e.err.Error() }
func (e *netError) Unwrap() error { return e.err }

// httpError is an HTTP error status from the hub.
type httpError struct {
	status int
	code   string // X-Error-Code
	msg    string
	what   string
}

func (e *httpError) Error() string {
	s := fmt.Sprintf("%s: HTTP %d", e.what, e.status)
	if e.code != "" {
		s += " " + e.code
	}
	if e.msg != "" {
		s += ": " + e.msg
	}
	switch {
	case e.status == http.StatusNotFound || e.code == "RepoNotFound" || e.code == "RevisionNotFound" || e.code == "EntryNotFound":
		s += " (check the repo id and revision; private repos need HF_TOKEN)"
	case e.code == "GatedRepo" || e.status == http.StatusUnauthorized || e.status == http.StatusForbidden:
		s += " (the repo may be gated or private: accept its terms on the hub and set HF_TOKEN)"
	}
	return s
}

func (e *httpError) Unwrap() error {
	switch {
	case e.status == http.StatusNotFound || e.code == "RepoNotFound" || e.code == "RevisionNotFound" || e.code == "EntryNotFound":
		return ErrNotFound
	case e.status == http.StatusUnauthorized || e.status == http.StatusForbidden:
		return ErrDenied
	}
	return nil
}

// hubClient talks to one endpoint for one repository.
type hubClient struct {
	o      Options
	repoID string
	client *http.Client
	host   string
}

func newHubClient(o Options, repoID string) *hubClient {
	c := *o.Client
	// Redirects are followed by hand so the token never leaves the
	// endpoint's host.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	host := ""
	if u, err := url.Parse(o.Endpoint); err == nil {
		host = u.Host
	}
	return &hubClient{o: o, repoID: repoID, client: &c, host: host}
}

const userAgent = "ominix-api/hub (huggingface_hub compatible)"

// do sends a request, following up to 5 redirects. The token goes only to
// the endpoint's host.
func (h *hubClient) do(ctx context.Context, method, rawURL string, hdr http.Header, followAll bool) (*http.Response, error) {
	for range 6 {
		req, err := http.NewRequestWithContext(ctx, method, rawURL, nil)
		if err != nil {
			return nil, err
		}
		for k, v := range hdr {
			req.Header[k] = v
		}
		req.Header.Set("User-Agent", userAgent)
		if h.o.Token != "" && req.URL.Host == h.host {
			req.Header.Set("Authorization", "Bearer "+h.o.Token)
		}
		resp, err := h.client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, &netError{err}
		}
		if resp.StatusCode < 300 || resp.StatusCode >= 400 {
			return resp, nil
		}
		loc := resp.Header.Get("Location")
		next, err := req.URL.Parse(loc)
		if err != nil || loc == "" {
			resp.Body.Close()
			return nil, fmt.Errorf("bad redirect %q from %s", loc, rawURL)
		}
		// Like huggingface_hub's HEAD: follow only relative redirects (repo
		// renames); a redirect to another host is the CDN and is returned.
		if !followAll && next.Host != req.URL.Host {
			return resp, nil
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		if next.Scheme != "https" && next.Scheme != "http" {
			return nil, fmt.Errorf("redirect to unsupported URL %s", next.Redacted())
		}
		rawURL = next.String()
	}
	return nil, fmt.Errorf("too many redirects from %s", rawURL)
}

func statusErr(resp *http.Response, what string) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	msg := ""
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil {
		msg = e.Error
	}
	return &httpError{status: resp.StatusCode, code: resp.Header.Get("X-Error-Code"), msg: msg, what: what}
}

// repoInfo is what GET /api/models/{repo}/revision/{rev} returns that we use.
type repoInfo struct {
	SHA      string `json:"sha"`
	Siblings []struct {
		RFilename string `json:"rfilename"`
	} `json:"siblings"`
}

// maxInfoBytes caps the repo info response.
const maxInfoBytes = 16 << 20

func (h *hubClient) repoInfo(ctx context.Context) (*repoInfo, error) {
	u := fmt.Sprintf("%s/api/models/%s/revision/%s", h.o.Endpoint, h.repoID, url.PathEscape(h.o.Revision))
	resp, err := h.do(ctx, http.MethodGet, u, nil, true)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, statusErr(resp, "repo info")
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxInfoBytes+1))
	if err != nil {
		return nil, &netError{err}
	}
	if len(body) > maxInfoBytes {
		return nil, fmt.Errorf("repo info larger than %d bytes", maxInfoBytes)
	}
	var info repoInfo
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, fmt.Errorf("repo info: %w", err)
	}
	if !commitHash.MatchString(info.SHA) {
		return nil, fmt.Errorf("repo info: commit %q is not a 40-hex hash", info.SHA)
	}
	return &info, nil
}

// fileMeta is what the HEAD of resolve/{commit}/{file} tells.
type fileMeta struct {
	name, etag, location string
	size                 int64
}

var etagRe = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

func normalizeETag(s string) string {
	s = strings.TrimPrefix(strings.TrimSpace(s), "W/")
	return strings.Trim(s, `"`)
}

func (h *hubClient) resolveURL(commit, name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return fmt.Sprintf("%s/%s/resolve/%s/%s", h.o.Endpoint, h.repoID, commit, strings.Join(parts, "/"))
}

func (h *hubClient) head(ctx context.Context, commit, name string) (fileMeta, error) {
	u := h.resolveURL(commit, name)
	hdr := http.Header{"Accept-Encoding": {"identity"}}
	resp, err := h.do(ctx, http.MethodHead, u, hdr, false)
	if err != nil {
		return fileMeta{}, err
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return fileMeta{}, statusErr(resp, "metadata of "+name)
	}
	m := fileMeta{name: name, location: resp.Request.URL.String()}
	if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode >= 300 {
		next, err := resp.Request.URL.Parse(loc)
		if err != nil {
			return fileMeta{}, fmt.Errorf("metadata of %s: bad redirect %q", name, loc)
		}
		m.location = next.String()
	}
	if got := resp.Header.Get("X-Repo-Commit"); got != "" && got != commit {
		return fileMeta{}, fmt.Errorf("metadata of %s: hub answered for commit %s, asked %s", name, got, commit)
	}
	m.etag = normalizeETag(resp.Header.Get("X-Linked-Etag"))
	if m.etag == "" {
		m.etag = normalizeETag(resp.Header.Get("ETag"))
	}
	if !etagRe.MatchString(m.etag) || m.etag == "." || m.etag == ".." {
		return fileMeta{}, fmt.Errorf("metadata of %s: missing or unusable ETag %q", name, m.etag)
	}
	sizeStr := resp.Header.Get("X-Linked-Size")
	if sizeStr == "" {
		sizeStr = resp.Header.Get("Content-Length")
	}
	if m.size, err = strconv.ParseInt(sizeStr, 10, 64); err != nil || m.size < 0 {
		return fileMeta{}, fmt.Errorf("metadata of %s: missing or bad size %q", name, sizeStr)
	}
	return m, nil
}

// download fetches the selected files of the revision into the cache and
// returns the snapshot directory.
func (h *hubClient) download(ctx context.Context, c *cache) (string, error) {
	info, err := h.repoInfo(ctx)
	if err != nil {
		return "", err
	}
	var names []string
	for _, s := range info.Siblings {
		if !safeRepoPath(s.RFilename) {
			return "", fmt.Errorf("repo info lists unsafe file name %q", s.RFilename)
		}
		if h.o.Include(s.RFilename) {
			names = append(names, s.RFilename)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	metas := make([]fileMeta, 0, len(names))
	var total int64
	for _, name := range names {
		// Like hf_hub_download with a commit hash: a file already in the
		// snapshot is trusted without asking the hub again.
		if fi, err := os.Stat(c.pointerPath(info.SHA, name)); err == nil && fi.Mode().IsRegular() {
			continue
		}
		m, err := h.head(ctx, info.SHA, name)
		if err != nil {
			return "", err
		}
		if m.size > h.o.MaxFileBytes {
			return "", fmt.Errorf("%w: %s is %d bytes, more than %d", ErrTooLarge, name, m.size, h.o.MaxFileBytes)
		}
		if total += m.size; total > h.o.MaxTotalBytes {
			return "", fmt.Errorf("%w: files total more than %d bytes", ErrTooLarge, h.o.MaxTotalBytes)
		}
		metas = append(metas, m)
	}
	for _, m := range metas {
		if err := h.ensure(ctx, c, info.SHA, m); err != nil {
			return "", err
		}
	}
	if h.o.Revision != info.SHA {
		if err := writeAtomic(c.refPath(h.o.Revision), []byte(info.SHA)); err != nil {
			return "", fmt.Errorf("write ref: %w", err)
		}
	}
	return c.snapshotDir(info.SHA), nil
}

// ensure makes snapshots/<commit>/<name> point at a verified blob.
func (h *hubClient) ensure(ctx context.Context, c *cache, commit string, m fileMeta) error {
	if c.cachedPointer(commit, m.name, m.size) {
		return nil
	}
	unlock, err := lockFile(ctx, filepath.Join(c.lockDir, m.etag+".lock"))
	if err != nil {
		return fmt.Errorf("%s: %w", m.name, err)
	}
	defer unlock()
	blob := c.blobPath(m.etag)
	if fi, err := os.Stat(blob); err != nil || fi.Size() != m.size {
		if err := h.fetch(ctx, blob, m); err != nil {
			return fmt.Errorf("download %s: %w", m.name, err)
		}
	}
	if err := c.link(commit, m.name, m.etag); err != nil {
		return fmt.Errorf("link %s: %w", m.name, err)
	}
	return nil
}

// verifier checks a blob against its ETag: the sha256 of LFS files (64 hex)
// or the git blob sha1 of regular files (40 hex).
func newVerifier(etag string, size int64) (hash.Hash, func(hash.Hash) error) {
	isHex := func(n int) bool {
		if len(etag) != n {
			return false
		}
		_, err := hex.DecodeString(etag)
		return err == nil
	}
	switch {
	case isHex(64):
		return sha256.New(), func(h hash.Hash) error {
			if got := hex.EncodeToString(h.Sum(nil)); got != strings.ToLower(etag) {
				return fmt.Errorf("%w: sha256 %s, hub says %s", ErrIntegrity, got, etag)
			}
			return nil
		}
	case isHex(40):
		h := sha1.New()
		fmt.Fprintf(h, "blob %d\x00", size)
		return h, func(h hash.Hash) error {
			if got := hex.EncodeToString(h.Sum(nil)); got != strings.ToLower(etag) {
				return fmt.Errorf("%w: git blob hash %s, hub says %s", ErrIntegrity, got, etag)
			}
			return nil
		}
	}
	return nil, func(hash.Hash) error { return nil }
}

// fetch downloads m into blob via blob.incomplete, resuming a partial file
// and retrying interrupted transfers, then verifies size and hash and
// renames it into place. The caller holds the blob's lock.
func (h *hubClient) fetch(ctx context.Context, blob string, m fileMeta) error {
	if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
		return err
	}
	part := blob + ".incomplete"
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	prog := newProgress(h.o, m.name, m.size)
	var lastErr error
	for attempt := 0; attempt <= max(h.o.Retries, 0); attempt++ {
		if attempt > 0 {
			if err := sleepCtx(ctx, time.Duration(attempt-1)*500*time.Millisecond); err != nil {
				return err
			}
			h.o.Logger.Info("resuming download", "file", m.name, "attempt", attempt, "err", lastErr)
		}
		lastErr = h.fetchOnce(ctx, f, m, prog)
		if lastErr == nil {
			break
		}
		var ne *netError
		if !errors.As(lastErr, &ne) || ctx.Err() != nil {
			break
		}
	}
	if lastErr != nil {
		prog.done(lastErr)
		if errors.Is(lastErr, ErrIntegrity) {
			os.Remove(part)
		}
		return lastErr
	}
	if err := f.Sync(); err != nil {
		return err
	}
	f.Close()
	if err := os.Rename(part, blob); err != nil {
		return err
	}
	prog.done(nil)
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// fetchOnce continues the download in f from its current size and verifies
// the result when complete.
func (h *hubClient) fetchOnce(ctx context.Context, f *os.File, m fileMeta, prog *progress) error {
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if have > m.size {
		if err := f.Truncate(0); err != nil {
			return err
		}
		have = 0
	}
	hdr := http.Header{"Accept-Encoding": {"identity"}}
	if have > 0 && have < m.size {
		hdr.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	if have < m.size {
		resp, err := h.do(ctx, http.MethodGet, m.location, hdr, true)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusPartialContent && have > 0:
			if !strings.HasPrefix(resp.Header.Get("Content-Range"), fmt.Sprintf("bytes %d-", have)) {
				return fmt.Errorf("server resumed at %q, wanted byte %d", resp.Header.Get("Content-Range"), have)
			}
		case resp.StatusCode == http.StatusOK:
			if have > 0 {
				// No range support: start over.
				if err := f.Truncate(0); err != nil {
					return err
				}
				if _, err := f.Seek(0, io.SeekStart); err != nil {
					return err
				}
				have = 0
			}
		case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
			if err := f.Truncate(0); err != nil {
				return err
			}
			return &netError{fmt.Errorf("range not satisfiable, restarting")}
		default:
			return statusErr(resp, "download")
		}
		prog.start(have)
		n, err := io.Copy(f, io.TeeReader(io.LimitReader(resp.Body, m.size-have), prog))
		have += n
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return &netError{err}
		}
		if have < m.size {
			return &netError{fmt.Errorf("connection closed after %d of %d bytes", have, m.size)}
		}
	}
	return verifyFile(f, m)
}

// verifyFile checks the size and hash of the complete file.
func verifyFile(f *os.File, m fileMeta) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() != m.size {
		return fmt.Errorf("%w: %d bytes, hub says %d", ErrIntegrity, fi.Size(), m.size)
	}
	hs, check := newVerifier(m.etag, m.size)
	if hs == nil {
		return nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := io.Copy(hs, f); err != nil {
		return err
	}
	return check(hs)
}

// progress reports one file's download: a bar on Options.Progress, else
// log lines every 10% (and at most every 10s otherwise quiet).
type progress struct {
	o          Options
	name       string
	total, got int64
	began      time.Time
	lastDraw   time.Time
	lastPct    int64
}

func newProgress(o Options, name string, total int64) *progress {
	// lastDraw starts at the start, so the first write of a file (a small
	// file's only one) is not "10 s since the last line".
	now := time.Now()
	return &progress{o: o, name: name, total: total, began: now, lastDraw: now, lastPct: -1}
}

func (p *progress) start(have int64) {
	p.got = have
	if p.o.Progress == nil && have == 0 {
		p.o.Logger.Info("downloading", "file", p.name, "bytes", p.total)
	}
}

func (p *progress) Write(b []byte) (int, error) {
	p.got += int64(len(b))
	now := time.Now()
	if p.o.Progress != nil {
		if now.Sub(p.lastDraw) >= 100*time.Millisecond {
			p.draw(now)
		}
		return len(b), nil
	}
	pct := int64(100)
	if p.total > 0 {
		pct = p.got * 100 / p.total
	}
	if pct/10 > p.lastPct/10 && pct < 100 || now.Sub(p.lastDraw) > 10*time.Second {
		p.lastPct, p.lastDraw = pct, now
		p.o.Logger.Info("download progress", "file", p.name, "percent", pct, "bytes", p.got, "total", p.total)
	}
	return len(b), nil
}

func (p *progress) draw(now time.Time) {
	p.lastDraw = now
	frac := 1.0
	if p.total > 0 {
		frac = float64(p.got) / float64(p.total)
	}
	const width = 30
	filled := int(frac * width)
	rate := float64(p.got) / max(now.Sub(p.began).Seconds(), 0.001)
	fmt.Fprintf(p.o.Progress, "\r%-40.40s [%s%s] %5.1f%% %s/%s %s/s ", p.name,
		strings.Repeat("=", filled), strings.Repeat(" ", width-filled), frac*100,
		humanBytes(float64(p.got)), humanBytes(float64(p.total)), humanBytes(rate))
}

func (p *progress) done(err error) {
	if p.o.Progress != nil {
		p.draw(time.Now())
		fmt.Fprintln(p.o.Progress)
		return
	}
	if err == nil {
		p.o.Logger.Info("downloaded", "file", p.name, "bytes", p.total, "seconds", time.Since(p.began).Round(time.Millisecond).Seconds())
	} else {
		p.o.Logger.Warn("download failed", "file", p.name, "err", err, slog.Int64("bytes", p.got))
	}
}

func humanBytes(n float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	return strconv.FormatFloat(n, 'f', 1, 64) + units[i]
}
