package safetensors_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/mx"
	"github.com/ominix/ominix-api/mlxrt/safetensors"
)

func sample() map[string]*mx.Array {
	return map[string]*mx.Array{
		"a.weight": mx.AsType(mx.FromFloat32([]float32{1, 2, 3, 4, 5, 6}, 2, 3), mx.BF16),
		"b.bias":   mx.FromFloat32([]float32{0.5, -1}),
		"c.half":   mx.AsType(mx.FromFloat32([]float32{1.5}, 1, 1), mx.F16),
		"d.ids":    mx.FromInt32([]int32{7, -3, 9}),
		"e.empty":  mx.Zeros(mx.F32, 0, 4),
		"f.packed": mx.Zeros(mx.U32, 2, 2),
	}
}

func TestRoundTripFileAndMemory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.safetensors")
	require.NoError(t, safetensors.WriteFile(path, sample(), map[string]string{"format": "mlx"}))
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Zero(t, binary.LittleEndian.Uint64(raw)%8, "header padded to 8 bytes")

	f, err := safetensors.Open(path)
	require.NoError(t, err)
	m, err := safetensors.Load(raw)
	require.NoError(t, err)
	for _, file := range []*safetensors.File{f, m} {
		assert.Equal(t, []string{"a.weight", "b.bias", "c.half", "d.ids", "e.empty", "f.packed"}, file.Names())
		assert.Equal(t, "mlx", file.Metadata()["format"])
		for name, want := range sample() {
			got, err := file.Array(name)
			require.NoError(t, err, name)
			assert.Equal(t, want.DType(), got.DType(), name)
			assert.Equal(t, want.Shape(), got.Shape(), name)
			assert.Equal(t, want.Bytes(), got.Bytes(), name)
			assert.True(t, got.ReadOnly())
		}
		info, ok := file.Info("a.weight")
		require.True(t, ok)
		assert.Equal(t, mx.BF16, info.DType)
		_, err = file.Array("nope")
		assert.ErrorContains(t, err, `no tensor "nope"`)
	}
	require.NoError(t, f.Close())
	require.NoError(t, f.Close(), "Close is idempotent")
	_, err = f.Array("a.weight")
	assert.ErrorContains(t, err, "closed")
}

// file builds a safetensors file from a raw header string and data size.
func file(header string, data int) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	b.Write(make([]byte, data))
	return b.Bytes()
}

func TestBadFiles(t *testing.T) {
	huge := make([]byte, 8)
	binary.LittleEndian.PutUint64(huge, 1<<62)
	over := make([]byte, 16)
	binary.LittleEndian.PutUint64(over, 200<<20)
	cases := map[string]struct {
		b    []byte
		want string
	}{
		"empty":              {nil, "shorter than the 8-byte"},
		"absurd length":      {huge, "exceeds the 104857600-byte limit"},
		"over the cap":       {over, "limit"},
		"length past end":    {append(file("{}", 0)[:8:8], '{'), "exceeds the file"},
		"not json":           {file("hello", 0), "not a JSON object"},
		"truncated json":     {file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}`, 4), "header JSON"},
		"trailing garbage":   {file(`{} x`, 0), "after the header object"},
		"unknown dtype":      {file(`{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}`, 1), "unsupported dtype"},
		"negative dim":       {file(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4), "bad dimension"},
		"overflowing shape":  {file(`{"a":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,4]}}`, 4), "too large"},
		"huge number":        {file(`{"a":{"dtype":"F32","shape":[1e400],"data_offsets":[0,4]}}`, 4), "tensor \"a\""},
		"size mismatch":      {file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, 8), "want 8"},
		"offset out of file": {file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 4), "outside"},
		"reversed offsets":   {file(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}`, 4), "outside"},
		"one offset":         {file(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0]}}`, 4), "2"},
		"missing field":      {file(`{"a":{"dtype":"U8","shape":[1]}}`, 4), "missing"},
		"overlap":            {file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}`, 8), "overlap"},
		"duplicate":          {file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), "duplicate"},
		"bad metadata":       {file(`{"__metadata__":{"x":1}}`, 0), "__metadata__"},
		"entry not object":   {file(`{"a":[1,2]}`, 0), "tensor \"a\""},
		"too many dims":      {file(`{"a":{"dtype":"U8","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,1]}}`, 1), "dimensions"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := safetensors.Load(c.b)
			require.Error(t, err)
			assert.ErrorIs(t, err, safetensors.ErrFormat)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestEmptyTensorsDoNotOverlap(t *testing.T) {
	_, err := safetensors.Load(file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}`, 4))
	assert.NoError(t, err)
}

func writeShards(t *testing.T, dir string, weightMap map[string]string) {
	t.Helper()
	s := sample()
	shards := map[string]map[string]*mx.Array{}
	for name, shard := range weightMap {
		if shards[shard] == nil {
			shards[shard] = map[string]*mx.Array{}
		}
		if a, ok := s[name]; ok {
			shards[shard][name] = a
		}
	}
	for shard, ts := range shards {
		if strings.ContainsAny(shard, `/\`) || strings.HasPrefix(shard, ".") {
			continue
		}
		require.NoError(t, safetensors.WriteFile(filepath.Join(dir, shard), ts, nil))
	}
	b, err := json.Marshal(map[string]any{"metadata": map[string]any{"total_size": 1}, "weight_map": weightMap})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, safetensors.IndexFile), b, 0o644))
}

func TestOpenModelSharded(t *testing.T) {
	dir := t.TempDir()
	writeShards(t, dir, map[string]string{
		"a.weight": "model-00001-of-00002.safetensors",
		"b.bias":   "model-00001-of-00002.safetensors",
		"c.half":   "model-00002-of-00002.safetensors",
	})
	m, err := safetensors.OpenModel(dir)
	require.NoError(t, err)
	defer m.Close()
	assert.Equal(t, []string{"a.weight", "b.bias", "c.half"}, m.Names())
	assert.Len(t, m.Files(), 2)
	a, err := m.Array("c.half")
	require.NoError(t, err)
	assert.Equal(t, []float32{1.5}, a.Float32s())
	assert.True(t, m.Has("a.weight"))
	_, err = m.Array("zzz")
	assert.Error(t, err)
}

func TestOpenModelSingle(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, safetensors.WriteFile(filepath.Join(dir, safetensors.SingleFile), sample(), nil))
	m, err := safetensors.OpenModel(dir)
	require.NoError(t, err)
	defer m.Close()
	assert.Len(t, m.Names(), 6)
}

func TestOpenModelRefusesBadIndex(t *testing.T) {
	for name, wm := range map[string]map[string]string{
		"parent dir":   {"a.weight": "../evil.safetensors"},
		"absolute":     {"a.weight": "/etc/passwd"},
		"subdir":       {"a.weight": "sub/x.safetensors"},
		"backslash":    {"a.weight": `..\x.safetensors`},
		"dot":          {"a.weight": ".."},
		"missing file": {"a.weight": "gone.safetensors", "zz": "gone2.safetensors"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeShards(t, dir, wm)
			if name == "missing file" {
				os.Remove(filepath.Join(dir, "gone2.safetensors"))
			}
			_, err := safetensors.OpenModel(dir)
			assert.Error(t, err)
		})
	}
	t.Run("tensor not in shard", func(t *testing.T) {
		dir := t.TempDir()
		writeShards(t, dir, map[string]string{"a.weight": "s.safetensors", "ghost": "s.safetensors"})
		_, err := safetensors.OpenModel(dir)
		assert.ErrorContains(t, err, `"ghost"`)
	})
	t.Run("no weights", func(t *testing.T) {
		_, err := safetensors.OpenModel(t.TempDir())
		assert.ErrorContains(t, err, "neither")
	})
	t.Run("malformed index", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, safetensors.IndexFile), []byte(`{"weight_map": [`), 0o644))
		_, err := safetensors.OpenModel(dir)
		assert.Error(t, err)
	})
}

func FuzzParseHeader(f *testing.F) {
	var buf bytes.Buffer
	require.NoError(f, safetensors.Write(&buf, sample(), map[string]string{"k": "v"}))
	f.Add(buf.Bytes())
	f.Add(file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4))
	f.Add(file(`{"__metadata__":{"a":"b"}}`, 0))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := safetensors.Load(b)
		if err != nil {
			return
		}
		for _, n := range file.Names() {
			a, err := file.Array(n)
			if err != nil {
				t.Fatalf("validated tensor %q: %v", n, err)
			}
			info, _ := file.Info(n)
			if int64(a.NBytes()) != info.End-info.Begin {
				t.Fatalf("tensor %q: %d bytes, header says %d", n, a.NBytes(), info.End-info.Begin)
			}
		}
	})
}
