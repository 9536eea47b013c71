package main

import (
	"net/http"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that the server's goroutines (thread, scheduler,
// registry, loaders, HTTP server) are all gone after the tests that run
// it shut it down. Ignored: the CPU backend's worker pool, which lives
// for the process, and idle keep-alive connections of the test clients
// (SDK clients keep their own transports).
func TestMain(m *testing.M) {
	code := m.Run()
	http.DefaultClient.CloseIdleConnections()
	if code == 0 {
		if err := goleak.Find(
			goleak.IgnoreTopFunction("github.com/ominix/ominix-api/mlxrt/mx.(*pool).await"),
			goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
			goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		); err != nil {
			os.Stderr.WriteString("goleak: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}
