package smallfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Open opens the file at path for reading and checks that it is a regular
// file. The open never blocks: a FIFO or device planted in a model
// directory is refused instead of hanging the loader (openFlags adds
// O_NONBLOCK where the system has it; on a regular file it changes
// nothing). Errors opening the file are returned unwrapped, so
// errors.Is(err, fs.ErrNotExist) works.
func Open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", filepath.Base(path), err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: not a regular file", filepath.Base(path))
	}
	return f, nil
}
