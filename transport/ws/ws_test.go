package ws_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/transport/ws"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func upgradeRequest(origin string) *http.Request {
	r := httptest.NewRequest("GET", "http://api.example:8080/v1/x", nil)
	r.Header.Set("Connection", "keep-alive, Upgrade")
	r.Header.Set("Upgrade", "websocket")
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	return r
}

func TestCheck(t *testing.T) {
	opts := &ws.AcceptOptions{Origins: []string{"https://app.example.com"}}
	assert.NoError(t, ws.Check(upgradeRequest(""), opts), "no Origin: not a browser")
	assert.NoError(t, ws.Check(upgradeRequest("http://api.example:8080"), opts), "same host")
	assert.NoError(t, ws.Check(upgradeRequest("https://app.example.com/"), opts), "listed origin")
	for _, o := range []string{"https://evil.example", "https://app.example.com.evil", "null", "::"} {
		err := ws.Check(upgradeRequest(o), opts)
		var pe *pipeline.Error
		require.True(t, errors.As(err, &pe), "%s", o)
		assert.Equal(t, "websocket_origin_not_allowed", pe.Code)
	}
	assert.NoError(t, ws.Check(upgradeRequest("https://anything.example"), &ws.AcceptOptions{Origins: []string{"*"}}))
	err := ws.Check(httptest.NewRequest("GET", "/v1/x", nil), nil)
	var pe *pipeline.Error
	require.True(t, errors.As(err, &pe))
	assert.Equal(t, "websocket_upgrade_required", pe.Code)
}

func TestOriginAllowed(t *testing.T) {
	req := func(host, origin string) *http.Request {
		r := httptest.NewRequest("GET", "/v1/x", nil)
		r.Host = host
		r.Header.Set("Origin", origin)
		return r
	}
	cases := []struct {
		host, origin string
		want         bool
	}{
		{"api.example", "http://api.example", true},
		{"api.example", "http://api.example:80", true},
		{"api.example:80", "http://API.example", true},
		{"api.example", "https://api.example:443/", true},
		{"api.example:443", "https://api.example", true},
		{"api.example", "http://api.example:8080", false},
		{"api.example:8080", "http://api.example:80", false},
		{"api.example:443", "http://api.example", false},
		{"127.0.0.1:8080", "http://localhost:8080", false},
		{"", "http://api.example", false},
		{"api.example", "null", false},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, ws.OriginAllowed(req(c.host, c.origin), nil), "Host %q, Origin %q", c.host, c.origin)
	}
	assert.True(t, ws.OriginAllowed(req("api.example", "null"), []string{"null"}), "null only when listed")
	assert.True(t, ws.OriginAllowed(req("api.example", "http://localhost:5173"), []string{" http://LOCALHOST:5173/ "}))
}

func TestAcceptSendAndLimits(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, &ws.AcceptOptions{Subprotocols: []string{"ominix.v1"}, ReadLimit: 16})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		if err := ws.Send(ctx, c, time.Second, []byte(`{"hello":"`+c.Subprotocol()+`"}`)); err != nil {
			return
		}
		_, _, err = c.Read(ctx) // the client sends more than the limit
		assert.ErrorContains(t, err, "message too big")
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, c := range []struct {
		offer []string
		want  string
	}{
		{[]string{"ominix.v1"}, "ominix.v1"},
		{[]string{"openai-insecure-api-key.sk-123"}, "openai-insecure-api-key.sk-123"},
		{nil, ""},
	} {
		conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: c.offer})
		require.NoError(t, err)
		assert.Equal(t, c.want, conn.Subprotocol(), "browsers need an answer to an offered protocol")
		_, data, err := conn.Read(ctx)
		require.NoError(t, err)
		assert.Equal(t, `{"hello":"`+c.want+`"}`, string(data))
		require.NoError(t, conn.Write(ctx, websocket.MessageText, []byte(strings.Repeat("x", 100))))
		_, _, err = conn.Read(ctx)
		assert.Equal(t, websocket.StatusMessageTooBig, websocket.CloseStatus(err))
		conn.CloseNow()
	}
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 400, resp.StatusCode)
}
