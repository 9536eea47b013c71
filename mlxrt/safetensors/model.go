package safetensors

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ominix/ominix-api/mlxrt/internal/smallfile"
	"github.com/ominix/ominix-api/mlxrt/mx"
)

// IndexFile and SingleFile are the names OpenModel looks for.
const (
	IndexFile  = "model.safetensors.index.json"
	SingleFile = "model.safetensors"
)

// maxIndexSize bounds model.safetensors.index.json (real ones are < 1 MiB).
const maxIndexSize = 64 << 20

// Model is the set of safetensors files of one model directory, addressed by
// tensor name.
type Model struct {
	files  []*File
	byName map[string]*File
}

// OpenModel opens the weights of the model in dir: the shards listed in
// model.safetensors.index.json when present, else model.safetensors. Shard
// names must be plain file names inside dir; every tensor the index lists
// must be in its shard, and a tensor may appear in only one file. Close
// releases every file.
func OpenModel(dir string) (*Model, error) {
	idx := filepath.Join(dir, IndexFile)
	if _, err := os.Stat(idx); err == nil {
		return openIndexed(dir, idx)
	}
	single := filepath.Join(dir, SingleFile)
	if _, err := os.Stat(single); err != nil {
		return nil, fmt.Errorf("open model weights: neither %s nor %s in %s", IndexFile, SingleFile, dir)
	}
	f, err := Open(single)
	if err != nil {
		return nil, fmt.Errorf("open model weights: %w", err)
	}
	m := &Model{files: []*File{f}, byName: map[string]*File{}}
	for _, n := range f.Names() {
		m.byName[n] = f
	}
	return m, nil
}

type indexJSON struct {
	WeightMap map[string]string `json:"weight_map"`
}

func openIndexed(dir, idx string) (*Model, error) {
	wm, err := readIndex(idx)
	if err != nil {
		return nil, fmt.Errorf("open model weights: %w", err)
	}
	m := &Model{byName: map[string]*File{}}
	shards := map[string]*File{}
	for _, tensor := range sortedKeys(wm) {
		shard := wm[tensor]
		f, ok := shards[shard]
		if !ok {
			f, err = Open(filepath.Join(dir, shard))
			if err != nil {
				m.Close()
				return nil, fmt.Errorf("open model weights: %w", err)
			}
			shards[shard] = f
			m.files = append(m.files, f)
		}
		if _, ok := f.Info(tensor); !ok {
			m.Close()
			return nil, fmt.Errorf("open model weights: %s lists %q in %s, which does not contain it", IndexFile, tensor, shard)
		}
		m.byName[tensor] = f
	}
	// Tensors a shard holds beyond the index are reachable too, unless they
	// would be ambiguous.
	for _, f := range m.files {
		for _, n := range f.Names() {
			if g, ok := m.byName[n]; ok && g != f && wm[n] == "" {
				m.Close()
				return nil, fmt.Errorf("open model weights: tensor %q is in both %s and %s", n, g.Path(), f.Path())
			}
			if _, ok := m.byName[n]; !ok {
				m.byName[n] = f
			}
		}
	}
	return m, nil
}

func readIndex(path string) (map[string]string, error) {
	f, err := smallfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxIndexSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", IndexFile, err)
	}
	if len(b) > maxIndexSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", IndexFile, maxIndexSize)
	}
	var ix indexJSON
	if err := json.Unmarshal(b, &ix); err != nil {
		return nil, fmt.Errorf("%s: %w", IndexFile, err)
	}
	if len(ix.WeightMap) == 0 {
		return nil, fmt.Errorf("%s: empty weight_map", IndexFile)
	}
	for tensor, shard := range ix.WeightMap {
		if err := checkShardName(shard); err != nil {
			return nil, fmt.Errorf("%s: tensor %q: %w", IndexFile, tensor, err)
		}
	}
	return ix.WeightMap, nil
}

// checkShardName refuses shard names that could leave the model directory.
func checkShardName(s string) error {
	if s == "" || s == "." || s == ".." || strings.ContainsAny(s, `/\`+"\x00") || filepath.IsAbs(s) ||
		filepath.Base(s) != s || filepath.VolumeName(s) != "" {
		return errors.New("shard name " + fmt.Sprintf("%q", s) + " is not a plain file name inside the model directory")
	}
	return nil
}

// Names returns every tensor name, sorted.
func (m *Model) Names() []string { return sortedKeys(m.byName) }

// Has reports whether the model has the named tensor.
func (m *Model) Has(name string) bool { _, ok := m.byName[name]; return ok }

// Info describes the named tensor.
func (m *Model) Info(name string) (TensorInfo, bool) {
	f, ok := m.byName[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Info(name)
}

// Array returns the named tensor as a read-only view into its file.
func (m *Model) Array(name string) (*mx.Array, error) {
	f, ok := m.byName[name]
	if !ok {
		return nil, fmt.Errorf("model weights: no tensor %q", name)
	}
	return f.Array(name)
}

// Metadata returns the __metadata__ of the first file (mlx-community and
// transformers write the same map, e.g. {"format": "mlx"}, in every shard).
func (m *Model) Metadata() map[string]string {
	if len(m.files) == 0 {
		return nil
	}
	return m.files[0].Metadata()
}

// Files returns the opened files in the order they were opened.
func (m *Model) Files() []*File { return append([]*File(nil), m.files...) }

// Close releases every file; arrays from the model must no longer be used.
func (m *Model) Close() error {
	var errs []error
	for _, f := range m.files {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}
