package pocketsphinx_test

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// cleanups run after every test, before the goroutine-leak check: tests
// that share a pinned thread and a recognizer register their shutdown here.
var cleanups []func()

func TestMain(m *testing.M) {
	code := m.Run()
	for _, f := range cleanups {
		f()
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
