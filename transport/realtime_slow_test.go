//go:build linux

package transport_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline/pipelinetest"
)

// A client that stops reading during a long answer is dropped by the write
// deadline, and the answer's work stops with it.
func TestRealtimeConversationSlowReader(t *testing.T) {
	// An answer that goes on until the context (1M tokens) is full, at
	// most a token per 2 ms.
	llm := &pipelinetest.LLM{Script: pipelinetest.Fixed(pipelinetest.Words(answer)...), NoEOS: true, Context: 1 << 20,
		StepDelay: 2 * time.Millisecond}
	e := newConvEnv(t, llm, func(o *envOptions) { o.opts.WriteTimeout = 300 * time.Millisecond })
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	// A small receive buffer (no autotuning), so the server's writes
	// block soon after the client stops reading.
	dialer := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 32<<10) })
		return errors.Join(err, serr)
	}}
	client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	defer client.CloseIdleConnections()
	c, _, err := websocket.Dial(ctx, wsURL(e, "/v1/realtime?model=gpt-realtime"), &websocket.DialOptions{HTTPClient: client})
	require.NoError(t, err)
	defer c.CloseNow()
	for _, ev := range []string{
		`{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"talk"}]}}`,
		`{"type":"response.create"}`,
	} {
		require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(ev)))
	}
	// Nothing is read: the server's writes block, time out, and the
	// connection with its response goes away.
	require.Eventually(t, func() bool { return llm.Tokens() > 0 }, wait, time.Millisecond, "the answer never started")
	require.Eventually(t, func() bool { return e.reg.Active() == 0 && e.reg.Len() == 0 && llm.Live() == 0 }, wait, 5*time.Millisecond,
		"work left: active=%d sessions=%d live=%d", e.reg.Active(), e.reg.Len(), llm.Live())
	e.idle()
	// What the socket buffers held arrives, then the connection ends,
	// before the answer did.
	c.SetReadLimit(-1)
	var events int
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			require.NoError(t, ctx.Err(), "the server kept the connection (%d events read)", events)
			break
		}
		events++
		assert.NotContains(t, string(data), `"response.done"`)
	}
	assert.Positive(t, events)
}
