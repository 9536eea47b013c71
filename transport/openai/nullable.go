package openai

import (
	"bytes"
	"encoding/json"
)

type nullState uint8

const (
	absent nullState = iota
	null
	present
)

// Nullable is an optional JSON member that is absent (the zero value, left
// out by the `omitzero` tag option), explicitly null, or a value. OpenAI's
// schemas distinguish the three for fields such as a delta's content (absent
// in most chunks, null next to a first tool call) and a chunk's usage (null on
// every chunk but the trailer when include_usage is set).
type Nullable[T any] struct {
	value T
	state nullState
}

// Null returns a Nullable that encodes as JSON null.
func Null[T any]() Nullable[T] { return Nullable[T]{state: null} }

// Value returns a Nullable holding v.
func Value[T any](v T) Nullable[T] { return Nullable[T]{value: v, state: present} }

// IsZero reports whether n is absent; the `omitzero` tag option uses it.
func (n Nullable[T]) IsZero() bool { return n.state == absent }

// IsNull reports whether n is an explicit null.
func (n Nullable[T]) IsNull() bool { return n.state == null }

// Get returns the value and whether there is one.
func (n Nullable[T]) Get() (T, bool) { return n.value, n.state == present }

// MarshalJSON encodes the value, or null when n is null or absent.
func (n Nullable[T]) MarshalJSON() ([]byte, error) {
	if n.state != present {
		return []byte("null"), nil
	}
	return marshal(n.value)
}

// UnmarshalJSON decodes null into an explicit null and anything else into
// the value.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		var zero T
		*n = Nullable[T]{value: zero, state: null}
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*n = Value(v)
	return nil
}

// Marshal encodes v as compact JSON without HTML escaping, as OpenAI does:
// "<" and "&" are sent as they are, and chat text is full of them (<think>,
// code). Handlers should encode every response body with it.
func Marshal(v any) ([]byte, error) { return marshal(v) }

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := appendJSON(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// appendJSON writes v to buf as compact JSON without HTML escaping and
// without the trailing newline json.Encoder adds.
func appendJSON(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1)
	return nil
}
