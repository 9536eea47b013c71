package smallfile_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/internal/smallfile"
)

var errBig = errors.New("too big")

func TestRead(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.json")
	require.NoError(t, os.WriteFile(p, []byte("12345"), 0o600))

	b, err := smallfile.Read(p, 5, errBig)
	require.NoError(t, err)
	require.Equal(t, "12345", string(b))

	_, err = smallfile.Read(p, 4, errBig)
	require.ErrorIs(t, err, errBig)
	require.EqualError(t, err, "too big: config.json exceeds 4 bytes")

	_, err = smallfile.Read(filepath.Join(dir, "missing.json"), 4, errBig)
	require.ErrorIs(t, err, fs.ErrNotExist)

	_, err = smallfile.Read(dir, 4, errBig)
	require.EqualError(t, err, filepath.Base(dir)+": not a regular file")
}
