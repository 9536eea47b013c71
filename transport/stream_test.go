package transport_test

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/transport"
	"github.com/ominix/ominix-api/transport/sse"
)

// TestSSEThroughMiddleware checks that the middleware wrappers keep what a
// stream needs: flushing per frame and per-write deadlines (through Unwrap),
// so a client that stops reading is still dropped.
func TestSSEThroughMiddleware(t *testing.T) {
	const timeout = 200 * time.Millisecond
	writeErr := make(chan error, 1)
	r := chi.NewRouter()
	r.Use(transport.RequestID, transport.Logger(slog.New(slog.NewTextHandler(io.Discard, nil))), transport.Recover)
	r.Get("/stream", func(w http.ResponseWriter, r *http.Request) {
		s, err := sse.New(r.Context(), w, &sse.Options{WriteTimeout: timeout, KeepAlive: -1})
		if !assert.NoError(t, err) {
			return
		}
		defer s.Close()
		big := r.URL.Query().Get("big") != ""
		for i := 0; i < 100000; i++ {
			frame := fmt.Appendf(nil, "data: %d\n\n", i)
			if big {
				frame = []byte("data: " + strings.Repeat("x", 256<<10) + "\n\n")
			}
			if err := s.Write(frame); err != nil {
				writeErr <- err
				return
			}
			if !big && i == 2 {
				return
			}
		}
		writeErr <- nil
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	defer srv.Client().CloseIdleConnections()

	resp, err := srv.Client().Get(srv.URL + "/stream")
	require.NoError(t, err)
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "data: 0\n", line, "the first frame arrives before the handler ends")
	_, _ = io.Copy(io.Discard, br)
	resp.Body.Close()

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "GET /stream?big=1 HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	select {
	case err := <-writeErr:
		require.Error(t, err, "a client that never reads is dropped through the middleware stack")
	case <-time.After(30 * time.Second):
		t.Fatal("stream handler blocked on a client that never reads")
	}
}
