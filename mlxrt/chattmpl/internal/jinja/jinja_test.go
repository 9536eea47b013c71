package jinja_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/chattmpl/internal/jinja"
)

// TestJinja2Conformance renders every case of ../../testdata/jinja_cases.json
// (made by gen_jinja_cases.py with Python's jinja2 in transformers'
// environment) and compares byte for byte.
func TestJinja2Conformance(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/jinja_cases.json")
	require.NoError(t, err)
	doc, err := jinja.FromJSON(raw)
	require.NoError(t, err)
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := get(t, doc, "cases")
	items := jinja.Items(cases)
	require.NotEmpty(t, items)
	for _, c := range items {
		name := jinja.AsString(get(t, c, "name"))
		t.Run(name, func(t *testing.T) {
			src := jinja.AsString(get(t, c, "template"))
			vars := map[string]jinja.Value{}
			v := get(t, c, "vars")
			for _, k := range jinja.Keys(v) {
				vars[k] = get(t, v, k)
			}
			tpl, err := jinja.Parse(src)
			var out string
			if err == nil {
				out, err = tpl.Render(vars, jinja.Limits{MaxSteps: 1 << 20, Now: func() time.Time { return now }})
			}
			if want, ok := jinja.Lookup(c, "error"); ok {
				require.Error(t, err, "jinja2 failed with %s", jinja.AsString(want))
				msg := jinja.AsString(want)
				_, text, _ := strings.Cut(msg, ": ")
				assert.Contains(t, err.Error(), text)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, jinja.AsString(get(t, c, "rendered")), out)
		})
	}
}

func get(t *testing.T, v jinja.Value, key string) jinja.Value {
	t.Helper()
	x, ok := jinja.Lookup(v, key)
	require.True(t, ok, "missing %q", key)
	return x
}
