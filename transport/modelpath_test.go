package transport_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

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
