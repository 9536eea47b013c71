// Command ominix-api is the OpenAI-compatible streaming inference server.
// See Usage (ominix-api -help) for its options.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ominix/ominix-api/mlxrt/hub"
	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/sessions"
	"github.com/ominix/ominix-api/transport"
	"github.com/ominix/ominix-api/web"
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

// run reads the configuration once, starts the model thread, scheduler,
// session registry and HTTP server, loads the configured models in the
// background, and serves until ctx is cancelled (SIGINT, SIGTERM). Then it
// shuts down in order: stop accepting connections and let running streams
// finish for the grace period (cancelling the rest with a final error
// event), stop native sessions, stop the scheduler, close the models, stop
// the thread.
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
	hubOpts := hub.OptionsFromEnvFunc(getenv)
	hubOpts.Logger = log
	if f, ok := stderr.(*os.File); ok && isTerminal(f) {
		hubOpts.Progress = stderr
	}
	eng, err := newEngines(cfg, hubOpts, log)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, eng, log)
}

// finalEventMargin is how long after the shutdown grace period the HTTP
// server still waits for handlers: the time they need to write the final
// event of a stream the scheduler cancelled.
const finalEventMargin = 2 * time.Second

func serve(ctx context.Context, cfg Config, eng *engines, log *slog.Logger) error {
	metrics := transport.NewMetrics()
	thread := pipeline.StartThread()
	defer thread.Stop()
	slots := pipeline.NewSlots(thread, eng.loaders, &pipeline.SlotsOptions{
		Metrics: metrics,
		OnError: func(err error) { log.Error("model close failed", "err", err) },
	})
	defer slots.Close()
	sched := pipeline.NewScheduler(thread, slots, &pipeline.SchedulerOptions{
		MaxInFlight: cfg.MaxInFlight, MaxBacklog: cfg.Backlog, Metrics: metrics,
	})
	schedCtx, stopSched := context.WithCancel(context.Background())
	schedDone := make(chan struct{})
	go func() { defer close(schedDone); _ = sched.Run(schedCtx) }()
	defer func() { stopSched(); <-schedDone }()

	registry := sessions.NewRegistry(&sessions.Options{Metrics: metrics})
	regCtx, stopReg := context.WithCancel(context.Background())
	regDone := make(chan struct{})
	go func() { defer close(regDone); registry.Run(regCtx, 30*time.Second) }()
	defer func() { stopReg(); <-regDone }()

	base, cancelBase := context.WithCancelCause(context.Background())
	defer cancelBase(pipeline.ErrShuttingDown)
	var ready atomic.Bool
	handler, err := transport.New(transport.Deps{
		Scheduler: sched, Slots: slots, Sessions: registry, Metrics: metrics, Codecs: eng.codecs,
		Logger: log, Version: version(), Web: web.FS(), Ready: ready.Load, BaseContext: base,
	}, &transport.Options{
		APIKey: cfg.APIKey, CORSOrigins: cfg.CORSOrigins, ModelRoots: cfg.ModelRoots,
		Loopback: IsLoopback(cfg.Host), AllowedHosts: cfg.AllowedHosts,
		MaxBodyBytes: cfg.MaxBodyBytes, MaxUploadBytes: cfg.MaxUploadBytes,
		WriteTimeout: cfg.WriteTimeout, KeepAlive: cfg.KeepAlive, TTSRefAudio: cfg.TTSRefAudio,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := handler.HTTPServer(ln.Addr().String())
	srv.TLSConfig = cfg.TLS
	srv.BaseContext = func(net.Listener) context.Context { return base }
	scheme := "http"
	if cfg.TLS != nil {
		scheme = "https"
	}
	log.Info("listening", "addr", ln.Addr().String(), "url", scheme+"://"+ln.Addr().String()+"/")
	serveErr := make(chan error, 1)
	go func() {
		if cfg.TLS != nil {
			serveErr <- srv.ServeTLS(ln, "", "")
		} else {
			serveErr <- srv.Serve(ln)
		}
	}()
	loadCtx, stopLoads := context.WithCancel(ctx)
	loadsDone := make(chan struct{})
	go func() {
		defer close(loadsDone)
		loadInitial(loadCtx, slots, eng.initial, log)
		ready.Store(true)
	}()
	// A start-up load still running at shutdown is cancelled and waited
	// for (a native loader may finish its current file first) before the
	// slots and the thread it would install into go away.
	defer func() { stopLoads(); <-loadsDone }()

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", cfg.ShutdownGrace)
	stopLoads()
	grace, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	// Streams finish or end with a final "shutting down" error once the
	// grace period is over; the HTTP server waits for their handlers a
	// little longer, so that those final events are written before the
	// remaining connections are closed.
	drained := make(chan error, 1)
	go func() { drained <- sched.Shutdown(grace) }()
	httpGrace, cancelHTTP := context.WithTimeout(context.Background(), cfg.ShutdownGrace+finalEventMargin)
	defer cancelHTTP()
	if err := srv.Shutdown(httpGrace); err != nil {
		log.Warn("connections still open after the grace period; closing them", "err", err)
		cancelBase(pipeline.ErrShuttingDown)
		_ = srv.Close()
	}
	cancelBase(pipeline.ErrShuttingDown)
	<-drained
	log.Info("stopped")
	return nil
}

// loadInitial loads the configured models one after another; a model that
// fails to load is logged and its slot stays empty.
func loadInitial(ctx context.Context, slots *pipeline.Slots, refs []pipeline.ModelRef, log *slog.Logger) {
	for _, ref := range refs {
		start := time.Now()
		info, err := slots.Load(ctx, ref)
		if err != nil {
			log.Error("model failed to load; its slot stays empty", "slot", ref.Category, "model", ref.Name, "err", err)
			continue
		}
		log.Info("model loaded", "slot", ref.Category, "model", info.ID, "took", time.Since(start).Round(time.Millisecond))
	}
}

// version is the module version or VCS revision the binary was built from.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "dev-" + s.Value[:12]
		}
	}
	return "dev"
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
