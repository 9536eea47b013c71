package hub_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ominix/ominix-api/mlxrt/hub"
	"github.com/ominix/ominix-api/mlxrt/hub/hubtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const repo = "test-org/tiny-model"

func fixture(t *testing.T) map[string][]byte {
	t.Helper()
	weights := make([]byte, 3<<20+123)
	_, err := rand.Read(weights)
	require.NoError(t, err)
	return map[string][]byte{
		"config.json":            []byte(`{"model_type": "qwen3", "hidden_size": 64}`),
		"generation_config.json": []byte(`{"temperature": 0.6}`),
		"tokenizer.json":         []byte(`{"model": {"type": "BPE", "vocab": {}, "merges": []}}`),
		"tokenizer_config.json":  []byte(`{"eos_token": "</s>"}`),
		"chat_template.jinja":    []byte(`{% for m in messages %}{{ m.content }}{% endfor %}`),
		"model.safetensors":      weights,
		"pytorch_model.bin":      []byte("not wanted"),
		"README.md":              []byte("# tiny"),
	}
}

func options(srv *hubtest.Server, cache string) *hub.Options {
	return &hub.Options{
		Endpoint: srv.URL,
		CacheDir: cache,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func TestResolveDownloadsIntoHubCacheLayout(t *testing.T) {
	files := fixture(t)
	srv := hubtest.New(repo, files)
	defer srv.Close()
	srv.SetFaults(hubtest.Faults{InterruptAfter: 1 << 20, Token: "secret-token"})
	cache := t.TempDir()
	opts := options(srv, cache)
	opts.Token = "secret-token"
	var bar bytes.Buffer
	opts.Progress = &bar

	dir, err := hub.Resolve(context.Background(), repo, opts)
	require.NoError(t, err)
	repoDir := filepath.Join(cache, "models--test-org--tiny-model")
	assert.Equal(t, filepath.Join(repoDir, "snapshots", srv.Commit), dir)

	for name, content := range files {
		p := filepath.Join(dir, name)
		if name == "pytorch_model.bin" || name == "README.md" {
			assert.NoFileExists(t, p, "only LLM files are fetched")
			continue
		}
		got, err := os.ReadFile(p)
		require.NoError(t, err, name)
		assert.Equal(t, content, got, name)
		target, err := os.Readlink(p)
		require.NoError(t, err, "%s must be a symlink", name)
		etag := hubtest.GitBlobSHA1(content)
		if hubtest.IsLFS(name, content) {
			etag = hubtest.SHA256(content)
		}
		assert.Equal(t, filepath.Join("..", "..", "blobs", etag), target)
	}
	ref, err := os.ReadFile(filepath.Join(repoDir, "refs", "main"))
	require.NoError(t, err)
	assert.Equal(t, srv.Commit, string(ref))
	incomplete, _ := filepath.Glob(filepath.Join(repoDir, "blobs", "*.incomplete"))
	assert.Empty(t, incomplete)

	resumed := false
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.Host, "localhost") {
			assert.False(t, r.Authorized, "the token must not go to the CDN host")
			if strings.HasPrefix(r.Range, "bytes=") && r.Range != "bytes=0-" {
				resumed = true
			}
		} else {
			assert.True(t, r.Authorized, "hub requests carry the token: %s %s", r.Method, r.Path)
		}
	}
	assert.True(t, resumed, "the interrupted transfer is resumed with a Range request")
	assert.Contains(t, bar.String(), "model.safetensors")
	assert.Contains(t, bar.String(), "100.0%")

	// Offline: the cache alone answers, without a request.
	n := len(srv.Requests())
	opts.Offline = true
	dir2, err := hub.Resolve(context.Background(), repo, opts)
	require.NoError(t, err)
	assert.Equal(t, dir, dir2)
	assert.Len(t, srv.Requests(), n)

	// Online again with everything cached: metadata only, no file bodies.
	opts.Offline = false
	_, err = hub.Resolve(context.Background(), repo, opts)
	require.NoError(t, err)
	for _, r := range srv.Requests()[n:] {
		assert.Equal(t, "GET", r.Method, "cached files need no HEAD")
		assert.Contains(t, r.Path, "/api/models/", "only the repo info is asked")
	}

	// The hub is down: fall back to the cached snapshot.
	srv.SetFaults(hubtest.Faults{Down: true})
	dir3, err := hub.Resolve(context.Background(), repo, opts)
	require.NoError(t, err)
	assert.Equal(t, dir, dir3)
}

func TestOfflineWithoutCache(t *testing.T) {
	_, err := hub.Resolve(context.Background(), repo, &hub.Options{CacheDir: t.TempDir(), Offline: true})
	require.ErrorIs(t, err, hub.ErrOffline)
	assert.Contains(t, err.Error(), "HF_HUB_OFFLINE")
}

func TestUnreachableEndpointSaysWhatToDo(t *testing.T) {
	_, err := hub.Resolve(context.Background(), repo, &hub.Options{
		Endpoint: "http://127.0.0.1:1", CacheDir: t.TempDir(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.ErrorIs(t, err, hub.ErrOffline)
	for _, want := range []string{"cannot reach http://127.0.0.1:1", "HF_ENDPOINT", "huggingface-cli download " + repo, "local directory"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestCorruptDownloadLeavesNoSnapshot(t *testing.T) {
	for _, name := range []string{"model.safetensors", "config.json"} {
		t.Run(name, func(t *testing.T) {
			files := fixture(t)
			srv := hubtest.New(repo, files)
			defer srv.Close()
			srv.SetFaults(hubtest.Faults{Corrupt: map[string]bool{name: true}})
			cache := t.TempDir()
			_, err := hub.Resolve(context.Background(), repo, options(srv, cache))
			require.ErrorIs(t, err, hub.ErrIntegrity)
			repoDir := filepath.Join(cache, "models--test-org--tiny-model")
			assert.NoFileExists(t, filepath.Join(repoDir, "snapshots", srv.Commit, name))
			assert.NoFileExists(t, filepath.Join(repoDir, "refs", "main"))
			etag := hubtest.GitBlobSHA1(files[name])
			if hubtest.IsLFS(name, files[name]) {
				etag = hubtest.SHA256(files[name])
			}
			assert.NoFileExists(t, filepath.Join(repoDir, "blobs", etag))
			assert.NoFileExists(t, filepath.Join(repoDir, "blobs", etag+".incomplete"))
		})
	}
}

func TestGatedRepoNeedsToken(t *testing.T) {
	srv := hubtest.New(repo, fixture(t))
	defer srv.Close()
	srv.SetFaults(hubtest.Faults{Token: "needed"})
	_, err := hub.Resolve(context.Background(), repo, options(srv, t.TempDir()))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "HF_TOKEN")
}

func TestMissingRepoAndRevision(t *testing.T) {
	srv := hubtest.New(repo, fixture(t))
	defer srv.Close()
	_, err := hub.Resolve(context.Background(), "test-org/other", options(srv, t.TempDir()))
	require.ErrorIs(t, err, hub.ErrNotFound)
	opts := options(srv, t.TempDir())
	opts.Revision = "v9"
	_, err = hub.Resolve(context.Background(), repo, opts)
	require.ErrorIs(t, err, hub.ErrNotFound)
}

func TestUnsafeFileNamesAreRefused(t *testing.T) {
	for _, bad := range []string{"../escape.safetensors", "/abs.safetensors", "a/../../b.safetensors", "a//b.safetensors"} {
		files := fixture(t)
		files[bad] = []byte("x")
		srv := hubtest.New(repo, files)
		_, err := hub.Resolve(context.Background(), repo, options(srv, t.TempDir()))
		srv.Close()
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "unsafe file name")
	}
}

func TestSizeCaps(t *testing.T) {
	srv := hubtest.New(repo, fixture(t))
	defer srv.Close()
	opts := options(srv, t.TempDir())
	opts.MaxFileBytes = 1 << 20
	_, err := hub.Resolve(context.Background(), repo, opts)
	require.ErrorIs(t, err, hub.ErrTooLarge)
	opts = options(srv, t.TempDir())
	opts.MaxTotalBytes = 2 << 20
	_, err = hub.Resolve(context.Background(), repo, opts)
	require.ErrorIs(t, err, hub.ErrTooLarge)
}

func TestRenamedRepoFollowsRelativeRedirect(t *testing.T) {
	files := fixture(t)
	srv := hubtest.New(repo, files)
	defer srv.Close()
	srv.SetFaults(hubtest.Faults{OldRepo: "old-org/tiny-model"})
	dir, err := hub.Resolve(context.Background(), "old-org/tiny-model", options(srv, t.TempDir()))
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(dir, "config.json"))
	require.NoError(t, err)
	assert.Equal(t, files["config.json"], got)
}

func TestConcurrentResolveSharesTheCache(t *testing.T) {
	files := fixture(t)
	srv := hubtest.New(repo, files)
	defer srv.Close()
	cache := t.TempDir()
	var wg sync.WaitGroup
	dirs := make([]string, 4)
	errs := make([]error, 4)
	for i := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dirs[i], errs[i] = hub.Resolve(context.Background(), repo, options(srv, cache))
		}()
	}
	wg.Wait()
	for i := range dirs {
		require.NoError(t, errs[i])
		assert.Equal(t, dirs[0], dirs[i])
	}
	got, err := os.ReadFile(filepath.Join(dirs[0], "model.safetensors"))
	require.NoError(t, err)
	assert.Equal(t, files["model.safetensors"], got)
}

func TestCancelKeepsPartialForResume(t *testing.T) {
	files := fixture(t)
	srv := hubtest.New(repo, files)
	defer srv.Close()
	srv.SetFaults(hubtest.Faults{InterruptAfter: 1 << 20})
	cache := t.TempDir()
	opts := options(srv, cache)
	opts.Retries = -1
	_, err := hub.Resolve(context.Background(), repo, opts)
	require.Error(t, err)
	sum := hubtest.SHA256(files["model.safetensors"])
	part := filepath.Join(cache, "models--test-org--tiny-model", "blobs", sum+".incomplete")
	fi, err := os.Stat(part)
	require.NoError(t, err, "the partial download stays for a resume")
	assert.Positive(t, fi.Size())

	opts.Retries = 0
	dir, err := hub.Resolve(context.Background(), repo, opts)
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	require.NoError(t, err)
	assert.Equal(t, files["model.safetensors"], got)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = hub.Resolve(ctx, repo, options(srv, t.TempDir()))
	require.ErrorIs(t, err, context.Canceled)
}

func TestGoldenModelDirectory(t *testing.T) {
	dir := "../testdata/models/qwen3-f32"
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		t.Skip("golden model not generated yet")
	}
	srv, err := hubtest.NewFromDir("golden/qwen3-f32", dir)
	require.NoError(t, err)
	defer srv.Close()
	snap, err := hub.Resolve(context.Background(), "golden/qwen3-f32", options(srv, t.TempDir()))
	require.NoError(t, err)
	for _, name := range []string{"config.json", "tokenizer.json", "model.safetensors"} {
		want, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(snap, name))
		require.NoError(t, err)
		assert.Equal(t, want, got, name)
	}
}

func TestOptionsFromEnv(t *testing.T) {
	home := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(home, "token"), []byte("hf_file_token\n"), 0o600))
	env := map[string]string{"HF_HOME": home, "HF_ENDPOINT": "https://mirror.example/", "HF_HUB_OFFLINE": "yes"}
	o := hub.OptionsFromEnvFunc(func(k string) string { return env[k] })
	assert.Equal(t, "https://mirror.example", o.Endpoint)
	assert.Equal(t, filepath.Join(home, "hub"), o.CacheDir)
	assert.True(t, o.Offline)
	assert.Equal(t, "hf_file_token", o.Token)

	env = map[string]string{"HOME": "/home/u", "HF_HUB_CACHE": "/c", "HF_TOKEN": "t1"}
	o = hub.OptionsFromEnvFunc(func(k string) string { return env[k] })
	assert.Equal(t, "/c", o.CacheDir)
	assert.Equal(t, "t1", o.Token)
	assert.False(t, o.Offline)

	env = map[string]string{"HOME": "/home/u"}
	o = hub.OptionsFromEnvFunc(func(k string) string { return env[k] })
	assert.Equal(t, "/home/u/.cache/huggingface/hub", o.CacheDir)
}

func TestIsRepoID(t *testing.T) {
	for _, ok := range []string{"mlx-community/Qwen3-0.6B-4bit", "gpt2", "org/name_1.5"} {
		assert.True(t, hub.IsRepoID(ok), ok)
	}
	for _, bad := range []string{"", "a/b/c", "../x", "/abs", "a--b/c", "org/na..me", "org/", "./x", strings.Repeat("a", 97)} {
		assert.False(t, hub.IsRepoID(bad), bad)
	}
}

func TestDefaultInclude(t *testing.T) {
	for _, yes := range []string{"config.json", "model-00001-of-00002.safetensors", "model.safetensors.index.json", "tokenizer.json", "chat_template.jinja", "additional_chat_templates/tool_use.jinja"} {
		assert.True(t, hub.DefaultInclude(yes), yes)
	}
	for _, no := range []string{"pytorch_model.bin", "model.gguf", "README.md", "onnx/model.safetensors", "tf_model.h5"} {
		assert.False(t, hub.DefaultInclude(no), no)
	}
}

// TestProgressLogLines downloads without a terminal (no Options.Progress)
// and checks the log: per file a "downloading" line with its size and a
// "downloaded" line; for the large file, interrupted once, a "resuming
// download" line and one "download progress" line per tenth crossed, with
// consistent numbers and never a line at 0% or 100%.
func TestProgressLogLines(t *testing.T) {
	files := fixture(t)
	srv := hubtest.New(repo, files)
	defer srv.Close()
	srv.SetFaults(hubtest.Faults{InterruptAfter: 1 << 20})
	opts := options(srv, t.TempDir())
	var logs bytes.Buffer // the handler serializes writes
	opts.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	_, err := hub.Resolve(context.Background(), repo, opts)
	require.NoError(t, err)

	type line struct {
		Msg     string  `json:"msg"`
		File    string  `json:"file"`
		Bytes   int64   `json:"bytes"`
		Total   int64   `json:"total"`
		Percent int64   `json:"percent"`
		Seconds float64 `json:"seconds"`
		Attempt int     `json:"attempt"`
		Err     string  `json:"err"`
	}
	msgs := map[string]map[string]int{} // file → message → count
	var tenths []int64
	dec := json.NewDecoder(&logs)
	for dec.More() {
		var l line
		require.NoError(t, dec.Decode(&l))
		if msgs[l.File] == nil {
			msgs[l.File] = map[string]int{}
		}
		msgs[l.File][l.Msg]++
		size := int64(len(files[l.File]))
		switch l.Msg {
		case "downloading", "downloaded":
			assert.Equal(t, size, l.Bytes, "%s %s", l.Msg, l.File)
			assert.GreaterOrEqual(t, l.Seconds, 0.0)
		case "download progress":
			assert.Equal(t, size, l.Total, l.File)
			assert.Equal(t, l.Bytes*100/size, l.Percent, "percent of %s", l.File)
			assert.True(t, l.Percent > 0 && l.Percent < 100, "%d%% of %s", l.Percent, l.File)
			if l.File == "model.safetensors" {
				tenths = append(tenths, l.Percent/10)
			}
		case "resuming download":
			assert.Equal(t, "model.safetensors", l.File)
			assert.Equal(t, 1, l.Attempt)
			assert.NotEmpty(t, l.Err)
		default:
			t.Errorf("unexpected log line %+v", l)
		}
	}
	for name := range files {
		if name == "pytorch_model.bin" || name == "README.md" {
			assert.Empty(t, msgs[name], "%s is not fetched", name)
			continue
		}
		assert.Equal(t, 1, msgs[name]["downloading"], name)
		assert.Equal(t, 1, msgs[name]["downloaded"], name)
		if name != "model.safetensors" {
			assert.Zero(t, msgs[name]["download progress"], "%s arrives in one write", name)
		}
	}
	assert.Equal(t, 1, msgs["model.safetensors"]["resuming download"])
	// Reads are at most 32 KiB, about 1% of the file: every tenth from 10%
	// to 90% gets its line, once, across the interruption.
	assert.Equal(t, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9}, tenths)
}
