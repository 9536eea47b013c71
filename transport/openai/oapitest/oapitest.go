package oapitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// EnvPath names the environment variable that overrides where the spec is.
const EnvPath = "OMINIX_OPENAPI"

const specURL = "https://openapi.invalid/openai.json"

// Spec is OpenAI's OpenAPI description compiled for validation. It is safe
// for concurrent use.
type Spec struct {
	path   string
	mu     sync.Mutex
	loose  *jsonschema.Compiler
	strict *jsonschema.Compiler
	cache  map[string]*jsonschema.Schema
}

var (
	loadOnce sync.Once
	loaded   *Spec
	loadErr  error
)

// Path returns where the spec is looked for: $OMINIX_OPENAPI when set, else
// ../shared/openai/openapi.json relative to the repository root (the first
// directory holding go.mod, walking up from the working directory).
func Path() (string, error) {
	if p := os.Getenv(EnvPath); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "openai", "openapi.json"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repository root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Load returns the compiled spec, parsing it on first use. It skips the test
// when the spec file does not exist and fails it when the file is unusable.
func Load(t testing.TB) *Spec {
	t.Helper()
	loadOnce.Do(func() { loaded, loadErr = load() })
	if errors.Is(loadErr, os.ErrNotExist) {
		t.Skipf("OpenAI OpenAPI spec not found (%v); set %s to its path to run schema checks", loadErr, EnvPath)
	}
	if loadErr != nil {
		t.Fatalf("load OpenAPI spec: %v", loadErr)
	}
	return loaded
}

func load() (*Spec, error) {
	path, err := Path()
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := &Spec{path: path, cache: make(map[string]*jsonschema.Schema)}
	if s.loose, err = compiler(raw, false); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if s.strict, err = compiler(raw, true); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func compiler(raw []byte, strict bool) (*jsonschema.Compiler, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	root, ok := doc.(map[string]any)
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	convertNullable(root)
	if strict {
		closeObjects(root)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(specURL, root); err != nil {
		return nil, err
	}
	return c, nil
}

// Path is where this spec was read from.
func (s *Spec) Path() string { return s.path }

// Validate checks v against #/components/schemas/<name>. v is JSON text
// ([]byte, json.RawMessage or string) or any value encoding/json can
// marshal. Members the schema does not name are allowed, as in the schema.
func (s *Spec) Validate(name string, v any) error {
	return s.validate(name, v, false, nil)
}

// ValidateStrict is Validate with every object schema closed
// ("unevaluatedProperties": false), so misspelled or invented members fail.
// Members named in extensions (e.g. "reasoning_content") are removed, at
// any depth, before validation: they are our documented additions.
func (s *Spec) ValidateStrict(name string, v any, extensions ...string) error {
	return s.validate(name, v, true, extensions)
}

func (s *Spec) validate(name string, v any, strict bool, extensions []string) error {
	inst, err := instance(v)
	if err != nil {
		return err
	}
	for _, ext := range extensions {
		inst = without(inst, ext)
	}
	sch, err := s.schema(name, strict)
	if err != nil {
		return err
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func (s *Spec) schema(name string, strict bool) (*jsonschema.Schema, error) {
	key := fmt.Sprintf("%s/%t", name, strict)
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.cache[key]; ok {
		return sch, nil
	}
	c := s.loose
	if strict {
		c = s.strict
	}
	sch, err := c.Compile(specURL + "#/components/schemas/" + name)
	if err != nil {
		return nil, fmt.Errorf("compile schema %s: %w", name, err)
	}
	s.cache[key] = sch
	return sch, nil
}

// instance turns v into the generic form the validator expects (numbers as
// json.Number, so integers stay integers).
func instance(v any) (any, error) {
	var raw []byte
	switch x := v.(type) {
	case []byte:
		raw = x
	case json.RawMessage:
		raw = x
	case string:
		raw = []byte(x)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("marshal instance: %w", err)
		}
		raw = b
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parse instance: %w", err)
	}
	return inst, nil
}

// without removes every member called key, at any depth.
func without(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		delete(x, key)
		for k, e := range x {
			x[k] = without(e, key)
		}
	case []any:
		for i, e := range x {
			x[i] = without(e, key)
		}
	}
	return v
}

// Require fails t unless data is valid against the named schema.
func (s *Spec) Require(t testing.TB, name string, data any) {
	t.Helper()
	if err := s.Validate(name, data); err != nil {
		t.Fatalf("schema %s: %v\ninstance: %s", name, err, show(data))
	}
}

// RequireStrict fails t unless data is valid against the closed schema,
// after removing the extension members.
func (s *Spec) RequireStrict(t testing.TB, name string, data any, extensions ...string) {
	t.Helper()
	if err := s.ValidateStrict(name, data, extensions...); err != nil {
		t.Fatalf("strict schema %s: %v\ninstance: %s", name, err, show(data))
	}
}

func show(v any) string {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case json.RawMessage:
		return string(x)
	case string:
		return x
	}
	b, _ := json.Marshal(v)
	return string(b)
}
