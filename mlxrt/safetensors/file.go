package safetensors

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/ominix/ominix-api/mlxrt/internal/smallfile"
	"github.com/ominix/ominix-api/mlxrt/mx"
)

// File is one opened safetensors file. Its arrays are views into the file's
// memory (mapped for Open, the caller's slice for Load).
type File struct {
	name   string
	hdr    *Header
	data   []byte // the data section
	byName map[string]int
	unmap  func() error
	closed bool
}

// Open memory-maps the safetensors file at path read-only and validates its
// header. Close unmaps it; arrays obtained from the file must not be used
// afterwards.
func Open(path string) (*File, error) {
	f, err := smallfile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open safetensors: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open safetensors: %w", err)
	}
	hdr, off, err := ReadHeader(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("open safetensors %s: %w", path, err)
	}
	mem, unmap, err := mapFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("open safetensors %s: map: %w", path, err)
	}
	return newFile(path, hdr, mem[off:], unmap), nil
}

// Load parses a safetensors file held in memory. The arrays it returns share
// b, which must stay unchanged while they are in use.
func Load(b []byte) (*File, error) {
	hdr, off, err := ReadHeader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("load safetensors: %w", err)
	}
	return newFile("<memory>", hdr, b[off:], nil), nil
}

func newFile(name string, hdr *Header, data []byte, unmap func() error) *File {
	f := &File{name: name, hdr: hdr, data: data, unmap: unmap, byName: make(map[string]int, len(hdr.Tensors))}
	for i, t := range hdr.Tensors {
		f.byName[t.Name] = i
	}
	return f
}

// Path returns the file's path ("<memory>" for Load).
func (f *File) Path() string { return f.name }

// Names returns the tensor names in sorted order.
func (f *File) Names() []string {
	out := make([]string, len(f.hdr.Tensors))
	for i, t := range f.hdr.Tensors {
		out[i] = t.Name
	}
	return out
}

// Info returns the description of the named tensor.
func (f *File) Info(name string) (TensorInfo, bool) {
	i, ok := f.byName[name]
	if !ok {
		return TensorInfo{}, false
	}
	t := f.hdr.Tensors[i]
	t.Shape = append([]int(nil), t.Shape...)
	return t, true
}

// Metadata returns the header's __metadata__ map (nil when absent). Do not
// modify it.
func (f *File) Metadata() map[string]string { return f.hdr.Metadata }

// Array returns the named tensor as a read-only array over the file's
// memory (copied only when misaligned for its dtype).
func (f *File) Array(name string) (*mx.Array, error) {
	if f.closed {
		return nil, fmt.Errorf("safetensors %s: tensor %q: file is closed", f.name, name)
	}
	i, ok := f.byName[name]
	if !ok {
		return nil, fmt.Errorf("safetensors %s: no tensor %q", f.name, name)
	}
	t := f.hdr.Tensors[i]
	a, err := mx.FromBytes(t.DType, f.data[t.Begin:t.End], t.Shape...)
	if err != nil {
		return nil, fmt.Errorf("safetensors %s: tensor %q: %w", f.name, name, err)
	}
	return a, nil
}

// Close releases the mapping. Arrays from the file must no longer be used.
// Close is idempotent.
func (f *File) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	f.data = nil
	if f.unmap != nil {
		return f.unmap()
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
