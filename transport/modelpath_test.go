package transport_test

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/transport"
)

// modelTree builds a model root and, beside it, a directory outside it:
//
//	base/models/qwen/            a model directory
//	base/models/weights.gguf     a model file
//	base/models/fifo             a FIFO
//	base/models/out -> ../secret a symlink out of the root
//	base/models/in -> qwen       a symlink inside the root
//	base/models-evil/m/          a sibling sharing the root's prefix
//	base/secret/                 outside
func modelTree(t *testing.T) (root, base string) {
	t.Helper()
	base, err := filepath.EvalSymlinks(t.TempDir())
	require.NoError(t, err)
	root = filepath.Join(base, "models")
	for _, d := range []string{"models/qwen", "models-evil/m", "secret"} {
		require.NoError(t, os.MkdirAll(filepath.Join(base, d), 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, "weights.gguf"), []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(base, "secret", "key"), []byte("x"), 0o644))
	require.NoError(t, syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644))
	require.NoError(t, os.Symlink("../secret", filepath.Join(root, "out")))
	require.NoError(t, os.Symlink("qwen", filepath.Join(root, "in")))
	require.NoError(t, os.Symlink("/dev/zero", filepath.Join(root, "zero")))
	return root, base
}

func TestResolveModelName(t *testing.T) {
	root, base := modelTree(t)
	roots := []string{root}
	outside := "The model path is not inside an allowed model root (OMINIX_MODEL_ROOTS) or does not exist."
	cases := []struct {
		name    string
		in      string
		want    string // the resolved name, when accepted
		errHas  string // part of the message, when refused
		sameMsg bool   // the refusal must be the generic outside-or-missing one
	}{
		{name: "hub id", in: "Qwen/Qwen3-0.6B", want: "Qwen/Qwen3-0.6B"},
		{name: "hub id with dots", in: "mlx-community/Qwen2.5-0.5B-Instruct-4bit", want: "mlx-community/Qwen2.5-0.5B-Instruct-4bit"},
		{name: "engine name", in: "pocketsphinx", want: "pocketsphinx"},
		{name: "engine voice", in: "flite:slt", want: "flite:slt"},
		{name: "model dir", in: filepath.Join(root, "qwen"), want: filepath.Join(root, "qwen")},
		{name: "model file", in: filepath.Join(root, "weights.gguf"), want: filepath.Join(root, "weights.gguf")},
		{name: "symlink inside", in: filepath.Join(root, "in"), want: filepath.Join(root, "qwen")},
		{name: "dot-dot staying inside", in: filepath.Join(root, "qwen") + "/../qwen", want: filepath.Join(root, "qwen")},

		{name: "empty", in: "", errHas: "empty"},
		{name: "dot-dot escape", in: root + "/../secret", sameMsg: true},
		{name: "dot-dot escape to a file", in: root + "/qwen/../../secret/key", sameMsg: true},
		{name: "symlink out of the roots", in: filepath.Join(root, "out"), sameMsg: true},
		{name: "file through a symlink out", in: filepath.Join(root, "out", "key"), sameMsg: true},
		{name: "dev zero", in: "/dev/zero", sameMsg: true},
		{name: "symlink to dev zero", in: filepath.Join(root, "zero"), sameMsg: true},
		{name: "existing outside", in: filepath.Join(base, "secret"), sameMsg: true},
		{name: "missing outside", in: filepath.Join(base, "nothing-here"), sameMsg: true},
		{name: "missing inside", in: filepath.Join(root, "nothing-here"), sameMsg: true},
		{name: "root prefix trick", in: filepath.Join(base, "models-evil", "m"), sameMsg: true},
		{name: "fifo inside", in: filepath.Join(root, "fifo"), errHas: "not a directory or a regular file"},
		{name: "relative dot", in: "./models/qwen", errHas: "relative paths are not accepted"},
		{name: "relative dot-dot", in: "../models", errHas: "relative paths are not accepted"},
		{name: "relative nested", in: "models/qwen/snapshots", errHas: "relative paths are not accepted"},
		{name: "hub id with dot-dot", in: "org/..", errHas: "relative paths are not accepted"},
		{name: "bare dot-dot", in: "..", errHas: "relative paths are not accepted"},
		{name: "home", in: "~/models", errHas: "relative paths are not accepted"},
		{name: "trailing slash", in: "qwen/", errHas: "relative paths are not accepted"},
		{name: "control characters", in: "Qwen/Qwen3\x00", errHas: "control characters"},
		{name: "too long", in: "/" + strings.Repeat("a", 2000), errHas: "longer than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := transport.ResolveModelName(c.in, roots)
			if c.want != "" {
				require.NoError(t, err)
				assert.Equal(t, c.want, got)
				return
			}
			require.Error(t, err)
			pe := pipeline.AsError(err)
			assert.Equal(t, pipeline.KindInvalid, pe.Kind)
			assert.Equal(t, "model", pe.Param)
			if c.sameMsg {
				assert.Equal(t, outside, pe.Message, "refusals outside the roots never say whether the path exists")
			} else {
				assert.Contains(t, pe.Message, c.errHas)
				assert.NotEqual(t, outside, pe.Message)
			}
		})
	}
}

func TestResolveModelNameWithoutRoots(t *testing.T) {
	_, err := transport.ResolveModelName("/models/qwen", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "OMINIX_MODEL_ROOTS")
	got, err := transport.ResolveModelName("Qwen/Qwen3-0.6B", nil)
	require.NoError(t, err)
	assert.Equal(t, "Qwen/Qwen3-0.6B", got)
}

func FuzzResolveModelName(f *testing.F) {
	root := f.TempDir()
	for _, s := range []string{"", "a/b", "/", "/etc/passwd", root, root + "/../x", "..", "a/../b", "\x00", "ab:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got, err := transport.ResolveModelName(name, []string{root})
		if err != nil {
			assert.Equal(t, pipeline.KindInvalid, pipeline.AsError(err).Kind)
			return
		}
		if strings.HasPrefix(got, "/") {
			assert.True(t, got == root || strings.HasPrefix(got, root+"/"), "%q resolved outside the root: %q", name, got)
		} else {
			assert.NotContains(t, got, "..")
			assert.LessOrEqual(t, strings.Count(got, "/"), 1)
		}
	})
}

// resolveQuickly runs ResolveModelName and fails the test if it does not
// return within the harness's wait: the check must never open a FIFO.
func resolveQuickly(t *testing.T, name string, roots []string) (string, error) {
	t.Helper()
	type result struct {
		got string
		err error
	}
	done := make(chan result, 1)
	go func() {
		got, err := transport.ResolveModelName(name, roots)
		done <- result{got, err}
	}()
	select {
	case r := <-done:
		return r.got, r.err
	case <-time.After(wait):
		t.Fatalf("ResolveModelName(%q) did not return within %v", name, wait)
		return "", nil
	}
}

// writeFiles creates each file (and its directories) below dir.
func writeFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		p := filepath.Join(dir, n)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte("{}"), 0o644))
	}
}

// symlink creates link (and its directory) pointing at target.
func symlink(t *testing.T, target, link string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(link), 0o755))
	require.NoError(t, os.Symlink(target, link))
}

func TestResolveModelDirContents(t *testing.T) {
	root, base := modelTree(t)
	roots := []string{root}
	cases := []struct {
		name   string
		setup  func(t *testing.T, dir string) // builds the model directory dir, below root
		model  string                         // what is loaded, relative to dir; "" means dir
		errHas []string                       // parts of the refusal; nil means accepted
		code   string                         // the refusal's code, when it matters
		isRoot bool                           // the model directory itself is the only root
	}{
		{name: "flat model", setup: func(t *testing.T, dir string) {
			writeFiles(t, dir, "config.json", "tokenizer.json", "model.safetensors")
		}},
		{name: "pocketsphinx layout with a subdirectory", setup: func(t *testing.T, dir string) {
			writeFiles(t, dir, "en-us/mdef", "en-us/means", "en-us/variances", "en-us/transition_matrices",
				"en-us/sendump", "en-us.lm.bin", "cmudict-en-us.dict")
		}},
		{name: "nested eight levels", setup: func(t *testing.T, dir string) {
			writeFiles(t, dir, "1/2/3/4/5/6/7/8/leaf")
		}},
		{name: "hf cache snapshot links into blobs", setup: func(t *testing.T, dir string) {
			hf := filepath.Join(dir, "models--o--n") // dir is the hub cache
			writeFiles(t, filepath.Join(hf, "blobs"), "aaa", "bbb", "ccc")
			writeFiles(t, filepath.Join(hf, "refs"), "main")
			snap := filepath.Join(hf, "snapshots", "rev")
			symlink(t, "../../blobs/aaa", filepath.Join(snap, "config.json"))
			symlink(t, "../../blobs/bbb", filepath.Join(snap, "model.safetensors"))
			symlink(t, "../../../blobs/ccc", filepath.Join(snap, "tokenizer", "tokenizer.json"))
		}, model: "models--o--n/snapshots/rev"},
		{name: "symlinked directory inside the roots", setup: func(t *testing.T, dir string) {
			writeFiles(t, dir, "config.json")
			symlink(t, "../../../qwen", filepath.Join(dir, "sub", "shared"))
		}},
		{name: "symlink cycle", setup: func(t *testing.T, dir string) {
			writeFiles(t, dir, "config.json")
			symlink(t, "..", filepath.Join(dir, "sub", "up"))
			symlink(t, ".", filepath.Join(dir, "self"))
		}},

		{name: "fifo config", setup: func(t *testing.T, dir string) {
			require.NoError(t, os.MkdirAll(dir, 0o755))
			require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "config.json"), 0o644))
		}, errHas: []string{`"config.json"`, "not a regular file or a directory"}},
		{name: "fifo in a subdirectory", setup: func(t *testing.T, dir string) {
			writeFiles(t, dir, "config.json")
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "en-us"), 0o755))
			require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "en-us", "mdef"), 0o644))
		}, errHas: []string{`"en-us/mdef"`, "not a regular file"}},
		{name: "link to a fifo inside the roots", setup: func(t *testing.T, dir string) {
			symlink(t, "../../fifo", filepath.Join(dir, "config.json"))
		}, errHas: []string{`"config.json"`, "not a regular file"}},
		{name: "unix socket", setup: func(t *testing.T, dir string) {
			require.NoError(t, os.MkdirAll(dir, 0o755))
			l, err := net.Listen("unix", filepath.Join(dir, "s"))
			require.NoError(t, err)
			t.Cleanup(func() { l.Close() })
		}, errHas: []string{`"s"`, "not a regular file"}},
		{name: "link to a file outside the roots", setup: func(t *testing.T, dir string) {
			symlink(t, filepath.Join(base, "secret", "key"), filepath.Join(dir, "config.json"))
		}, errHas: []string{`"config.json"`, "outside the allowed model roots"}, code: "model_path_not_allowed"},
		{name: "relative link out of the roots", setup: func(t *testing.T, dir string) {
			symlink(t, "../../../../secret/key", filepath.Join(dir, "sub", "config.json"))
		}, errHas: []string{`"sub/config.json"`, "outside the allowed model roots"}, code: "model_path_not_allowed"},
		{name: "dangling link gets the same answer", setup: func(t *testing.T, dir string) {
			symlink(t, filepath.Join(base, "secret", "nothing"), filepath.Join(dir, "config.json"))
		}, errHas: []string{`"config.json"`, "outside the allowed model roots"}, code: "model_path_not_allowed"},
		{name: "link to a directory outside the roots", setup: func(t *testing.T, dir string) {
			symlink(t, filepath.Join(base, "secret"), filepath.Join(dir, "tokenizer"))
		}, errHas: []string{`"tokenizer"`, "outside the allowed model roots"}},
		{name: "link to a device", setup: func(t *testing.T, dir string) {
			symlink(t, "/dev/zero", filepath.Join(dir, "model.safetensors"))
		}, errHas: []string{`"model.safetensors"`, "outside the allowed model roots"}},
		{name: "hf snapshot when only the snapshot is a root", setup: func(t *testing.T, dir string) {
			writeFiles(t, filepath.Join(dir, "blobs"), "aaa")
			symlink(t, "../../blobs/aaa", filepath.Join(dir, "snapshots", "rev", "config.json"))
		}, model: "snapshots/rev", isRoot: true, errHas: []string{`"config.json"`, "outside the allowed model roots"}},
		{name: "nested nine levels", setup: func(t *testing.T, dir string) {
			writeFiles(t, dir, "1/2/3/4/5/6/7/8/9/leaf")
		}, errHas: []string{"more than 8 levels deep", `"1/2/3/4/5/6/7/8/9"`}},
		{name: "too many entries over the tree", setup: func(t *testing.T, dir string) {
			// 2 directories of 2048 files: each below the bound, 4098 entries in all.
			for d := range 2 {
				sub := filepath.Join(dir, strconv.Itoa(d))
				require.NoError(t, os.MkdirAll(sub, 0o755))
				for i := range 2048 {
					require.NoError(t, os.WriteFile(filepath.Join(sub, strconv.Itoa(i)), nil, 0o644))
				}
			}
		}, errHas: []string{"more than 4096 files and directories"}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(root, "case"+strconv.Itoa(i), "m")
			c.setup(t, dir)
			name := filepath.Join(dir, c.model)
			r := roots
			if c.isRoot {
				r = []string{name}
			}
			got, err := resolveQuickly(t, name, r)
			if c.errHas == nil {
				require.NoError(t, err)
				assert.Equal(t, name, got)
				return
			}
			require.Error(t, err)
			pe := pipeline.AsError(err)
			assert.Equal(t, pipeline.KindInvalid, pe.Kind)
			assert.Equal(t, "model", pe.Param)
			for _, part := range c.errHas {
				assert.Contains(t, pe.Message, part)
			}
			if c.code != "" {
				assert.Equal(t, c.code, pe.Code)
			}
			assert.NotContains(t, pe.Message, base, "refusals name entries relative to the model directory, never a resolved path")
			assert.NotContains(t, pe.Message, "secret")
			assert.NotContains(t, pe.Message, "/dev")
		})
	}
}

// TestResolveModelDirRealPocketsphinx checks Debian's pocketsphinx model,
// when installed, passes the check with its directory as the root.
func TestResolveModelDirRealPocketsphinx(t *testing.T) {
	const dir = "/usr/share/pocketsphinx/model/en-us"
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Skip("Debian's pocketsphinx-en-us is not installed")
	}
	got, err := transport.ResolveModelName(dir, []string{real})
	require.NoError(t, err)
	assert.Equal(t, real, got)
}

func TestResolveModelDirUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every directory")
	}
	root, base := modelTree(t)
	dir := filepath.Join(root, "locked")
	writeFiles(t, dir, "config.json", "sub/x")
	require.NoError(t, os.Chmod(filepath.Join(dir, "sub"), 0))
	t.Cleanup(func() { _ = os.Chmod(filepath.Join(dir, "sub"), 0o755) })
	_, err := transport.ResolveModelName(dir, []string{root})
	require.Error(t, err)
	msg := pipeline.AsError(err).Message
	assert.Contains(t, msg, `"sub"`)
	assert.Contains(t, msg, "cannot be read")
	assert.NotContains(t, msg, base)
}
