// Command ominix-api is the OpenAI-compatible streaming inference server.
// See Usage (ominix-api -help) for its options.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ominix-api:", err)
		os.Exit(1)
	}
}

// run reads the configuration once and starts the server; it returns when
// ctx is cancelled (SIGINT, SIGTERM) and shutdown is complete, or with the
// first fatal error.
//
// NOTE for the lead: this is the transport engineer's config-only shell; the
// server wiring (router, scheduler, sessions, shutdown order) replaces the
// error at the end.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := LoadConfig(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, Usage())
		return err
	}
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := cfg.NewLogger(stderr)
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	_ = ctx
	return fmt.Errorf("configuration for %s is valid, but the server is not wired into this build yet", cfg.Addr())
}
