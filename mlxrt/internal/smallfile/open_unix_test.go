//go:build unix

package smallfile_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/internal/smallfile"
)

// A FIFO (or a device) where a model file should be is refused at once:
// opening it for reading would otherwise block until a writer appears.
func TestOpenRefusesFIFOWithoutBlocking(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "config.json")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	done := make(chan error, 1)
	go func() {
		_, err := smallfile.Read(fifo, 1<<20, errBig)
		done <- err
	}()
	select {
	case err := <-done:
		require.EqualError(t, err, "config.json: not a regular file")
	case <-time.After(10 * time.Second):
		t.Fatal("reading a FIFO blocked")
	}
	_, err := smallfile.Open("/dev/zero")
	require.EqualError(t, err, "zero: not a regular file")
	_, err = smallfile.Open(dir)
	require.ErrorContains(t, err, "not a regular file")

	link := filepath.Join(dir, "link.json")
	require.NoError(t, os.Symlink(fifo, link))
	_, err = smallfile.Open(link)
	require.ErrorContains(t, err, "not a regular file", "links are followed, then checked")
}
