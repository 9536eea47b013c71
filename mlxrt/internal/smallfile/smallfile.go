package smallfile

import (
	"fmt"
	"io"
	"path/filepath"
)

// Read returns the contents of the file at path. It reads at most limit+1
// bytes, so a huge or endless file costs no more than that: a file longer
// than limit bytes fails with an error wrapping tooLarge that names the
// file ("<tooLarge>: tokenizer.json exceeds 1024 bytes"). Errors opening
// the file are returned unwrapped (so errors.Is(err, fs.ErrNotExist)
// works); read errors name the file. Only regular files are read (see
// Open).
func Read(path string, limit int64, tooLarge error) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: %s exceeds %d bytes", tooLarge, filepath.Base(path), limit)
	}
	return b, nil
}
