package transport_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMetricsCountWhatHappened: after one streamed chat of known length,
// /metrics reports its tokens, one time-to-first-token observation, one
// inter-token observation per later token, the loaded model, and no
// active sessions.
func TestMetricsCountWhatHappened(t *testing.T) {
	e := newEnv(t, envOptions{})
	resp := e.post("/v1/chat/completions", chatBody("one two three four five six", map[string]any{"stream": true}))
	_, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	e.idle()

	res, err := http.Get(e.url + "/metrics")
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	text := string(body)

	// value finds the sample of name whose labels include all of labels
	// (Prometheus text format: `name{a="b",…} value`).
	value := func(name string, labels map[string]string) float64 {
		t.Helper()
		for _, line := range strings.Split(text, "\n") {
			rest, ok := strings.CutPrefix(line, name)
			if !ok || (rest != "" && rest[0] != '{' && rest[0] != ' ') {
				continue
			}
			match := true
			for k, v := range labels {
				match = match && strings.Contains(rest, k+`="`+v+`"`)
			}
			if !match {
				continue
			}
			f, err := strconv.ParseFloat(rest[strings.LastIndexByte(rest, ' ')+1:], 64)
			require.NoError(t, err, line)
			return f
		}
		t.Fatalf("no %s with labels %v in\n%s", name, labels, text)
		return 0
	}
	// The scripted engine echoes six words and then an end token.
	model := map[string]string{"model": "scripted"}
	assert.Equal(t, 7.0, value("ominix_tokens_generated_total", model), "six words and the end token")
	assert.Equal(t, 1.0, value("ominix_time_to_first_token_seconds_count", model), "one first token")
	assert.Positive(t, value("ominix_time_to_first_token_seconds_sum", model))
	assert.Equal(t, 6.0, value("ominix_inter_token_seconds_count", model), "one gap per later token")
	assert.Equal(t, 1.0, value("ominix_model_loaded", map[string]string{"slot": "llm", "model": "scripted"}))
	assert.Zero(t, value("ominix_sessions_active", nil))
	assert.GreaterOrEqual(t, value("ominix_step_seconds_count", map[string]string{"slot": "llm"}), 7.0, "a step per token at least")
	assert.Contains(t, text, "# TYPE ominix_tokens_generated_total counter")
}
