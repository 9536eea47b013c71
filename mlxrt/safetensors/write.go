package safetensors

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/ominix/ominix-api/mlxrt/mx"
)

type writeEntry struct {
	DType       string  `json:"dtype"`
	Shape       []int   `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// Write writes tensors (in name order) and metadata as a safetensors file
// to w. The header is padded with spaces to a multiple of 8 bytes, as the
// reference writer does, so every tensor starts 8-byte aligned relative to
// the file when all sizes are multiples of 8.
func Write(w io.Writer, tensors map[string]*mx.Array, metadata map[string]string) error {
	hdr := map[string]any{}
	if len(metadata) > 0 {
		hdr["__metadata__"] = metadata
	}
	names := sortedKeys(tensors)
	var off int64
	for _, n := range names {
		t := tensors[n]
		if n == "__metadata__" {
			return fmt.Errorf("write safetensors: reserved tensor name %q", n)
		}
		if t == nil {
			return fmt.Errorf("write safetensors: tensor %q is nil", n)
		}
		size := int64(t.NBytes())
		hdr[n] = writeEntry{DType: t.DType().String(), Shape: t.Shape(), DataOffsets: []int64{off, off + size}}
		off += size
	}
	js, err := json.Marshal(hdr)
	if err != nil {
		return fmt.Errorf("write safetensors: %w", err)
	}
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(js)))
	bw.Write(lenBuf[:])
	bw.Write(js)
	for _, n := range names {
		if _, err := bw.Write(tensors[n].Bytes()); err != nil {
			return fmt.Errorf("write safetensors: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write safetensors: %w", err)
	}
	return nil
}

// WriteFile writes a safetensors file at path (see Write).
func WriteFile(path string, tensors map[string]*mx.Array, metadata map[string]string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write safetensors: %w", err)
	}
	if err := Write(f, tensors, metadata); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write safetensors: %w", err)
	}
	return nil
}
