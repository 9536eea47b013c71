package openai_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/transport/openai"
)

func TestNullableRoundTrip(t *testing.T) {
	type doc struct {
		A openai.Nullable[string] `json:"a,omitzero"`
	}
	for _, c := range []struct {
		in       string
		isZero   bool
		isNull   bool
		value    string
		hasValue bool
	}{
		{`{}`, true, false, "", false},
		{`{"a":null}`, false, true, "", false},
		{`{"a":"<x>"}`, false, false, "<x>", true},
	} {
		var d doc
		require.NoError(t, json.Unmarshal([]byte(c.in), &d))
		assert.Equal(t, c.isZero, d.A.IsZero(), c.in)
		assert.Equal(t, c.isNull, d.A.IsNull(), c.in)
		v, ok := d.A.Get()
		assert.Equal(t, c.hasValue, ok, c.in)
		assert.Equal(t, c.value, v, c.in)
		out, err := openai.Marshal(d)
		require.NoError(t, err)
		assert.Equal(t, c.in, string(out), "round trip without HTML escaping")
	}
	var d doc
	assert.Error(t, json.Unmarshal([]byte(`{"a":1}`), &d))
}
