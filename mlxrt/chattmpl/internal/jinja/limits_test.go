package jinja_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/chattmpl/internal/jinja"
)

func TestLimits(t *testing.T) {
	lim := jinja.Limits{MaxOutput: 1 << 20, MaxSteps: 1 << 20, MaxDepth: 32}
	for name, src := range map[string]string{
		"huge range":     `{% for i in range(1000000000) %}{% endfor %}`,
		"nested loops":   `{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}{% endfor %}{% endfor %}{% endfor %}`,
		"recursion":      `{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}`,
		"doubling":       `{% set ns = namespace(s='a') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}`,
		"repeat":         `{{ 'a' * 10000000000 }}`,
		"list repeat":    `{{ [1] * 10000000000 }}`,
		"output":         `{% for i in range(100000) %}xxxxxxxxxxxxxxxxxxxx{% endfor %}`,
		"recursive loop": `{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}`,
		"pow":            `{{ 2 ** 100000 }}`,
	} {
		t.Run(name, func(t *testing.T) {
			tpl, err := jinja.Parse(src)
			require.NoError(t, err)
			_, err = tpl.Render(nil, lim)
			require.Error(t, err)
			if name != "pow" {
				assert.True(t, errors.Is(err, jinja.ErrLimit), "%v", err)
			}
		})
	}
}

func TestDeadline(t *testing.T) {
	tpl, err := jinja.Parse(`{% for i in range(100000) %}{{ i }}{% endfor %}`)
	require.NoError(t, err)
	_, err = tpl.Render(nil, jinja.Limits{Deadline: time.Now().Add(-time.Second)})
	require.ErrorIs(t, err, jinja.ErrLimit)
	assert.Contains(t, err.Error(), "timed out")
}

func TestParseNestingBounded(t *testing.T) {
	src := "{{ " + strings.Repeat("(", 10000) + "1" + strings.Repeat(")", 10000) + " }}"
	_, err := jinja.Parse(src)
	require.ErrorIs(t, err, jinja.ErrLimit)
}

func TestRaiseExceptionMessage(t *testing.T) {
	tpl, err := jinja.Parse(`{{ raise_exception('Conversation roles must alternate') }}`)
	require.NoError(t, err)
	_, err = tpl.Render(nil, jinja.Limits{})
	require.Error(t, err)
	assert.Equal(t, "Conversation roles must alternate", err.Error())
}

func FuzzRender(f *testing.F) {
	for _, s := range []string{
		`{% for m in messages %}{{ m.role }}{% endfor %}`,
		`{{ x | tojson(indent=2) }}{% if x is mapping %}{{ x.items() | list }}{% endif %}`,
		`{% macro f(a, b=1) %}{{ a ~ b }}{% endmacro %}{{ f(1) }}{{ f(b=2, a=3) }}`,
		`{%- set ns = namespace(a=[]) -%}{% set ns.a = ns.a + [1] %}{{ ns.a[-1:] }}`,
		`{{ 'a,b'.split(',') | join('|') }}{{ "%s" % 1 }}{{ 7 // -2 }}`,
		`{% raw %}{{ x }}{% endraw %}{# c #}{{- ' ' -}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tpl, err := jinja.Parse(src)
		if err != nil {
			return
		}
		x, _ := jinja.FromJSON([]byte(`{"a": [1, 2.5, "s", null, true, {"b": "c"}]}`))
		msgs, _ := jinja.FromJSON([]byte(`[{"role": "user", "content": "hi"}]`))
		_, err = tpl.Render(map[string]jinja.Value{"x": x, "messages": msgs},
			jinja.Limits{MaxOutput: 1 << 16, MaxSteps: 1 << 14, MaxDepth: 16})
		if err != nil && strings.Contains(err.Error(), "internal template error") {
			t.Fatalf("panic inside render: %v", err)
		}
	})
}
