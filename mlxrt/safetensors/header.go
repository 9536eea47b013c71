package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/ominix/ominix-api/mlxrt/mx"
)

// MaxHeaderSize bounds the JSON header (100 MiB, the reference
// implementation's limit); real headers are a few hundred KiB.
const MaxHeaderSize = 100 << 20

// ErrFormat is wrapped by every error about a malformed file.
var ErrFormat = errors.New("invalid safetensors file")

// TensorInfo describes one tensor of a file. Begin and End are byte offsets
// into the data section (after the header).
type TensorInfo struct {
	Name       string
	DType      mx.DType
	Shape      []int
	Begin, End int64
}

// Header is a validated safetensors header. Tensors are sorted by name.
type Header struct {
	Tensors  []TensorInfo
	Metadata map[string]string
}

func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrFormat}, args...)...)
}

// ReadHeader reads and validates the header of a safetensors file of the
// given size from r. It returns the header and the offset of the data
// section. It reads at most MaxHeaderSize+8 bytes.
func ReadHeader(r io.ReaderAt, size int64) (*Header, int64, error) {
	if size < 8 {
		return nil, 0, formatErr("file of %d bytes is shorter than the 8-byte header length", size)
	}
	var lenBuf [8]byte
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, 0, fmt.Errorf("read header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > MaxHeaderSize {
		return nil, 0, formatErr("header length %d exceeds the %d-byte limit", n, MaxHeaderSize)
	}
	if n > uint64(size-8) {
		return nil, 0, formatErr("header length %d exceeds the file (%d bytes after the length)", n, size-8)
	}
	js := make([]byte, n)
	if _, err := r.ReadAt(js, 8); err != nil {
		return nil, 0, fmt.Errorf("read header: %w", err)
	}
	h, err := ParseHeader(js, size-8-int64(n))
	if err != nil {
		return nil, 0, err
	}
	return h, 8 + int64(n), nil
}

type rawEntry struct {
	DType       *string  `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// ParseHeader validates the JSON header js of a file whose data section has
// dataSize bytes.
func ParseHeader(js []byte, dataSize int64) (*Header, error) {
	if len(js) > MaxHeaderSize {
		return nil, formatErr("header of %d bytes exceeds the %d-byte limit", len(js), MaxHeaderSize)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, formatErr("header is not a JSON object")
	}
	h := &Header{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, formatErr("header JSON: %v", err)
		}
		name, _ := tok.(string)
		if seen[name] {
			return nil, formatErr("duplicate entry %q", name)
		}
		seen[name] = true
		if name == "__metadata__" {
			if err := dec.Decode(&h.Metadata); err != nil {
				return nil, formatErr("__metadata__ is not an object of strings: %v", err)
			}
			continue
		}
		var e rawEntry
		if err := dec.Decode(&e); err != nil {
			return nil, formatErr("tensor %q: %v", name, err)
		}
		ti, err := e.check(name, dataSize)
		if err != nil {
			return nil, err
		}
		h.Tensors = append(h.Tensors, ti)
	}
	if _, err := dec.Token(); err != nil {
		return nil, formatErr("header JSON: %v", err)
	}
	if rest := bytes.TrimSpace(js[dec.InputOffset():]); len(rest) > 0 {
		return nil, formatErr("%d bytes after the header object", len(rest))
	}
	if err := checkOverlap(h.Tensors); err != nil {
		return nil, err
	}
	sort.Slice(h.Tensors, func(i, j int) bool { return h.Tensors[i].Name < h.Tensors[j].Name })
	return h, nil
}

func (e *rawEntry) check(name string, dataSize int64) (TensorInfo, error) {
	if e.DType == nil || e.Shape == nil || e.DataOffsets == nil {
		return TensorInfo{}, formatErr("tensor %q: missing dtype, shape or data_offsets", name)
	}
	dt, err := mx.ParseDType(*e.DType)
	if err != nil {
		return TensorInfo{}, formatErr("tensor %q: unsupported dtype %q", name, *e.DType)
	}
	shape := make([]int, len(*e.Shape))
	for i, d := range *e.Shape {
		if d < 0 || d > 1<<40 {
			return TensorInfo{}, formatErr("tensor %q: bad dimension %d in shape %v", name, d, *e.Shape)
		}
		shape[i] = int(d)
	}
	n, err := mx.ShapeSize(shape)
	if err != nil {
		return TensorInfo{}, formatErr("tensor %q: %v", name, err)
	}
	offs := *e.DataOffsets
	if len(offs) != 2 {
		return TensorInfo{}, formatErr("tensor %q: data_offsets has %d values, want 2", name, len(offs))
	}
	b, end := offs[0], offs[1]
	if b < 0 || end < b || end > dataSize {
		return TensorInfo{}, formatErr("tensor %q: data_offsets [%d, %d] outside the %d-byte data section", name, b, end, dataSize)
	}
	if want := int64(n) * int64(dt.Size()); end-b != want {
		return TensorInfo{}, formatErr("tensor %q: %d bytes for %v %v, want %d", name, end-b, dt, shape, want)
	}
	return TensorInfo{Name: name, DType: dt, Shape: shape, Begin: b, End: end}, nil
}

func checkOverlap(ts []TensorInfo) error {
	var byBegin []int
	for i, t := range ts {
		if t.End > t.Begin { // empty tensors occupy no bytes
			byBegin = append(byBegin, i)
		}
	}
	sort.Slice(byBegin, func(i, j int) bool { return ts[byBegin[i]].Begin < ts[byBegin[j]].Begin })
	for i := 1; i < len(byBegin); i++ {
		a, b := ts[byBegin[i-1]], ts[byBegin[i]]
		if b.Begin < a.End {
			return formatErr("tensors %q and %q overlap", a.Name, b.Name)
		}
	}
	return nil
}
