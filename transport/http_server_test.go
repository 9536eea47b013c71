package transport_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHTTPServerLimits: the http.Server that Server.HTTPServer builds
// (cmd serves with it) bounds headers at 64 KiB and slow headers at 10s,
// and sets no overall write or read timeout, which would cut streams.
func TestHTTPServerLimits(t *testing.T) {
	e := newEnv(t, envOptions{noStart: true})
	srv := e.srv.HTTPServer("127.0.0.1:0")
	assert.Equal(t, 64<<10, srv.MaxHeaderBytes)
	assert.Equal(t, 10*time.Second, srv.ReadHeaderTimeout)
	assert.Zero(t, srv.WriteTimeout)
	assert.Zero(t, srv.ReadTimeout)

	ln, err := net.Listen("tcp", srv.Addr)
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
		require.True(t, errors.Is(<-served, http.ErrServerClosed))
	}()
	url := "http://" + ln.Addr().String() + "/health"
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("X-Big", strings.Repeat("x", 80<<10))
	code, _ := readAll(t, do(t, req))
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, code)
	req.Header.Set("X-Big", strings.Repeat("x", 32<<10))
	code, body := readAll(t, do(t, req))
	assert.Equal(t, http.StatusOK, code, "%s", body)
}
