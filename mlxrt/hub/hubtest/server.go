package hubtest

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Request records one request the server saw.
type Request struct {
	Method, Host, Path, Range string
	Authorized                bool // an Authorization header was present
}

// Server is a fake hub for one repository. Set its fault fields before
// the client runs; they are read under a lock.
type Server struct {
	// URL is the hub endpoint (http://127.0.0.1:port).
	URL string
	// CDN is the base URL large files redirect to: the same server under
	// the host name "localhost", so a client sees another host.
	CDN string
	// Repo is the repository id and Commit its 40-hex commit.
	Repo, Commit string

	mu     sync.Mutex
	srv    *httptest.Server
	files  map[string][]byte
	reqs   []Request
	cut    map[string]bool
	faults Faults
}

// Faults are the misbehaviours the server injects.
type Faults struct {
	// InterruptAfter, when positive, cuts the first CDN download of every
	// LFS file after that many bytes (the connection closes mid-file).
	InterruptAfter int64
	// Corrupt lists files whose served bytes differ from what the
	// metadata declares.
	Corrupt map[string]bool
	// Token, when set, must be presented as a Bearer token to the hub host.
	Token string
	// Down makes every hub request fail with 503 (the CDN keeps working).
	Down bool
	// OldRepo, when set, is an alias that redirects (relative Location) to
	// Repo, as the hub does for renamed repositories.
	OldRepo string
}

// SetFaults replaces the injected faults; safe while requests run.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.cut = map[string]bool{}
	s.mu.Unlock()
}

// LFSThreshold is the size from which files are served as LFS blobs (and
// any *.safetensors file).
const LFSThreshold = 1 << 20

// New starts a server holding files (path → content) as repo at a fixed
// commit.
func New(repo string, files map[string][]byte) *Server {
	s := &Server{Repo: repo, files: files, cut: map[string]bool{}}
	h := sha1.Sum([]byte(repo))
	s.Commit = hex.EncodeToString(h[:])
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	_, port, _ := net.SplitHostPort(s.srv.Listener.Addr().String())
	s.URL = "http://127.0.0.1:" + port
	s.CDN = "http://localhost:" + port + "/cdn"
	return s
}

// NewFromDir is New with the regular files under dir.
func NewFromDir(repo, dir string) (*Server, error) {
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		return nil, err
	}
	return New(repo, files), nil
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Requests returns the requests seen so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

// IsLFS reports whether a file is served as an LFS blob.
func IsLFS(name string, content []byte) bool {
	return strings.HasSuffix(name, ".safetensors") || len(content) >= LFSThreshold
}

// SHA256 returns the hex sha256 of b (an LFS file's ETag).
func SHA256(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// GitBlobSHA1 returns the git blob hash of b (a regular file's ETag).
func GitBlobSHA1(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.reqs = append(s.reqs, Request{Method: r.Method, Host: r.Host, Path: r.URL.Path,
		Range: r.Header.Get("Range"), Authorized: r.Header.Get("Authorization") != ""})
	f := s.faults
	s.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/cdn/") {
		s.serveCDN(w, r, f)
		return
	}
	if f.Down {
		http.Error(w, `{"error":"service unavailable"}`, http.StatusServiceUnavailable)
		return
	}
	if f.Token != "" && r.Header.Get("Authorization") != "Bearer "+f.Token {
		w.Header().Set("X-Error-Code", "GatedRepo")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"Access to this model is restricted."}`)
		return
	}
	if p, ok := strings.CutPrefix(r.URL.Path, "/api/models/"); ok {
		if f.OldRepo != "" && strings.HasPrefix(p, f.OldRepo+"/") {
			w.Header().Set("Location", "/api/models/"+s.Repo+strings.TrimPrefix(p, f.OldRepo))
			w.WriteHeader(http.StatusTemporaryRedirect)
			return
		}
		s.serveInfo(w, p)
		return
	}
	s.serveResolve(w, r, f)
}

func (s *Server) serveInfo(w http.ResponseWriter, p string) {
	repo, rev, ok := strings.Cut(p, "/revision/")
	if !ok || repo != s.Repo {
		w.Header().Set("X-Error-Code", "RepoNotFound")
		http.Error(w, `{"error":"Repository not found"}`, http.StatusNotFound)
		return
	}
	if rev != "main" && rev != s.Commit {
		w.Header().Set("X-Error-Code", "RevisionNotFound")
		http.Error(w, `{"error":"Invalid rev id"}`, http.StatusNotFound)
		return
	}
	names := make([]string, 0, len(s.files))
	for n := range s.files {
		names = append(names, n)
	}
	slices.Sort(names)
	type sib struct {
		RFilename string `json:"rfilename"`
	}
	info := struct {
		ID       string `json:"id"`
		SHA      string `json:"sha"`
		Siblings []sib  `json:"siblings"`
	}{ID: s.Repo, SHA: s.Commit}
	for _, n := range names {
		info.Siblings = append(info.Siblings, sib{n})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(info)
}

func (s *Server) serveResolve(w http.ResponseWriter, r *http.Request, f Faults) {
	p := strings.TrimPrefix(r.URL.Path, "/")
	if f.OldRepo != "" {
		if rest, ok := strings.CutPrefix(p, f.OldRepo+"/"); ok {
			w.Header().Set("Location", "/"+s.Repo+"/"+rest)
			w.WriteHeader(http.StatusTemporaryRedirect)
			return
		}
	}
	rest, ok := strings.CutPrefix(p, s.Repo+"/resolve/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	rev, name, _ := strings.Cut(rest, "/")
	content, ok := s.files[name]
	if !ok || rev != "main" && rev != s.Commit {
		w.Header().Set("X-Error-Code", "EntryNotFound")
		http.Error(w, `{"error":"Entry not found"}`, http.StatusNotFound)
		return
	}
	w.Header().Set("X-Repo-Commit", s.Commit)
	if IsLFS(name, content) {
		sum := SHA256(content)
		w.Header().Set("X-Linked-Etag", `"`+sum+`"`)
		w.Header().Set("X-Linked-Size", fmt.Sprint(len(content)))
		w.Header().Set("ETag", `"`+GitBlobSHA1([]byte("version https://git-lfs.github.com/spec/v1\n"))+`"`)
		w.Header().Set("Location", s.CDN+"/"+sum+"?name="+name)
		w.WriteHeader(http.StatusFound)
		return
	}
	w.Header().Set("ETag", `"`+GitBlobSHA1(content)+`"`)
	if f.Corrupt[name] {
		content = corrupt(content)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(content))
}

func corrupt(b []byte) []byte {
	c := bytes.Clone(b)
	if len(c) > 0 {
		c[len(c)/2] ^= 0xff
	}
	return c
}

func (s *Server) serveCDN(w http.ResponseWriter, r *http.Request, f Faults) {
	name := r.URL.Query().Get("name")
	content, ok := s.files[name]
	if !ok || SHA256(content) != strings.TrimPrefix(r.URL.Path, "/cdn/") {
		http.NotFound(w, r)
		return
	}
	if f.Corrupt[name] {
		content = corrupt(content)
	}
	s.mu.Lock()
	cut := f.InterruptAfter > 0 && !s.cut[name] && r.Method == http.MethodGet && int64(len(content)) > f.InterruptAfter
	if cut {
		s.cut[name] = true
	}
	limit := f.InterruptAfter
	s.mu.Unlock()
	if cut && r.Header.Get("Range") == "" {
		// Declare the whole file, send part of it, and drop the connection.
		w.Header().Set("Content-Length", fmt.Sprint(len(content)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(content[:limit])
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		panic(http.ErrAbortHandler)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(content))
}
