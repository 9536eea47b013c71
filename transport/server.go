package transport

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/sessions"
	"github.com/ominix/ominix-api/transport/openai"
	"github.com/ominix/ominix-api/transport/sse"
)

// Defaults of Options.
const (
	DefaultMaxBodyBytes   = 32 << 20
	DefaultMaxUploadBytes = 26 << 20
	DefaultLoadTimeout    = 5 * time.Minute
	// maxSmallBody bounds the management endpoints' bodies (model load and
	// unload), which are a few short strings.
	maxSmallBody = 64 << 10
)

// Deps are the parts of the server the transport drives. Scheduler and
// Sessions are required; the rest may be left zero.
type Deps struct {
	// Scheduler runs all model work. Required.
	Scheduler *pipeline.Scheduler
	// Slots holds the models. Nil means Scheduler.Slots().
	Slots *pipeline.Slots
	// Sessions holds the sessions of streams and of the native API. Required.
	Sessions *sessions.Registry
	// Metrics serves /metrics. Nil answers /metrics with 404.
	Metrics *Metrics
	// Codecs decodes uploaded and encodes synthesized audio for the audio
	// routes. Nil means the server has none (the audio routes say so).
	Codecs pipeline.Codecs
	// Logger receives the request log. Nil means slog.Default().
	Logger *slog.Logger
	// Version is reported by /health. Empty means "dev".
	Version string
	// Web holds the static demo pages served at / (outside authentication).
	// Nil serves no pages.
	Web fs.FS
	// Ready reports whether the models configured at start have finished
	// loading; /readyz answers 503 until it returns true. Nil means ready.
	Ready func() bool
	// BaseContext is the parent context of sessions created through the
	// native API (POST /v1/sessions), which outlive their request. Cancel
	// it at shutdown to stop them. Nil means context.Background().
	BaseContext context.Context
}

// Options configure the HTTP server. A nil *Options means all defaults, and
// so does each zero field.
type Options struct {
	// APIKey is the key clients must present (see Auth). Empty disables
	// authentication.
	APIKey string
	// CORSOrigins are the browser origins allowed to call the API (see
	// CORS); they are also the origins WebSocket upgrades are accepted from
	// besides the server's own host. A request from any other origin is
	// refused with 403 (see Guard). Empty allows none but the server's own.
	CORSOrigins []string
	// Loopback says the server listens on a loopback address (cmd sets it
	// from HOST): requests must then name a loopback host (localhost,
	// 127.0.0.1, [::1], any port) or one of AllowedHosts, which defeats DNS
	// rebinding (see Guard). False accepts any Host unless AllowedHosts is
	// set.
	Loopback bool
	// AllowedHosts are more Host names requests may name, e.g. the public
	// name a local reverse proxy forwards (port ignored; "*" accepts any).
	// Without Loopback, a non-empty list is the only names accepted.
	AllowedHosts []string
	// ModelRoots are the directories local models may be loaded from,
	// absolute and with symlinks resolved (cmd's config does both). Empty
	// means local paths are refused: only hub ids and engine names load.
	ModelRoots []string
	// MaxBodyBytes bounds JSON request bodies (413 beyond). Zero means
	// DefaultMaxBodyBytes (32 MiB).
	MaxBodyBytes int64
	// MaxUploadBytes bounds audio uploads, for the audio routes. Zero means
	// DefaultMaxUploadBytes (26 MiB).
	MaxUploadBytes int64
	// WriteTimeout bounds each write and flush of a stream: a client that
	// takes no bytes for this long is dropped. Zero means
	// sse.DefaultWriteTimeout (10s).
	WriteTimeout time.Duration
	// KeepAlive is the silence after which streams send a comment (SSE) to
	// keep proxies from timing out. Zero means sse.DefaultKeepAlive (15s);
	// negative disables keepalives.
	KeepAlive time.Duration
	// TTSRefAudio is the operator's voice-cloning reference audio
	// (TTS_REF_AUDIO). When set, a speech request naming no voice asks for
	// the cloned voice, which no built-in engine can make: it is refused
	// with a clear error instead of silently using another voice. Empty
	// means requests without a voice use the engine's default voice.
	TTSRefAudio string
	// LoadTimeout bounds one POST /v1/models/load. Zero means
	// DefaultLoadTimeout (5 minutes).
	LoadTimeout time.Duration
	// Decode bounds chat requests (message count and size, tools, stop).
	// Zero fields take openai.DecodeOptions' defaults.
	Decode openai.DecodeOptions
	// SystemFingerprint is sent in chat responses; empty omits it.
	SystemFingerprint string
}

func (o *Options) withDefaults() Options {
	v := Options{}
	if o != nil {
		v = *o
	}
	if v.MaxBodyBytes <= 0 {
		v.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if v.MaxUploadBytes <= 0 {
		v.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if v.WriteTimeout <= 0 {
		v.WriteTimeout = sse.DefaultWriteTimeout
	}
	if v.KeepAlive == 0 {
		v.KeepAlive = sse.DefaultKeepAlive
	}
	if v.LoadTimeout <= 0 {
		v.LoadTimeout = DefaultLoadTimeout
	}
	return v
}

// Server is ominix-api's HTTP API: the OpenAI endpoints, the model
// management API, the native sessions API, health and metrics, and the
// static demo pages. It is an http.Handler, safe for concurrent use once
// New returns.
//
// Route groups other engineers fill (audio, realtime) receive the Server
// and use its accessors (Scheduler, Slots, Sessions, Codecs, Options,
// Logger, SSEOptions) and helpers (BodyLimit, startRequestWork, EndSession,
// HandleSessionType, ServeSessionEvents, ServeSessionWS, AcceptWebSocket).
type Server struct {
	deps   Deps
	opts   Options
	slots  *pipeline.Slots
	base   context.Context
	router chi.Router

	mu           sync.Mutex
	sessionTypes map[string]SessionType
	loading      map[pipeline.Category]bool // slots with a load in progress
}

// New builds the server and its router. It fails when a required
// dependency is missing.
func New(deps Deps, opts *Options) (*Server, error) {
	if deps.Scheduler == nil {
		return nil, errors.New("transport: Deps.Scheduler is required")
	}
	if deps.Sessions == nil {
		return nil, errors.New("transport: Deps.Sessions is required")
	}
	s := &Server{
		deps:         deps,
		opts:         opts.withDefaults(),
		slots:        deps.Slots,
		base:         deps.BaseContext,
		sessionTypes: map[string]SessionType{},
		loading:      map[pipeline.Category]bool{},
	}
	if s.slots == nil {
		s.slots = deps.Scheduler.Slots()
	}
	if s.base == nil {
		s.base = context.Background()
	}
	if s.deps.Logger == nil {
		s.deps.Logger = slog.Default()
	}
	if s.deps.Version == "" {
		s.deps.Version = "dev"
	}
	s.HandleSessionType(string(sessions.KindChat), SessionType{Start: s.startChatSession})
	s.router = s.routes()
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// routes builds the router: global middleware (request id, log, panic
// recovery, the Origin and Host guard, CORS), the open probes and pages,
// then the authenticated API.
func (s *Server) routes() chi.Router {
	r := chi.NewRouter()
	guard := Guard(GuardOptions{Origins: s.opts.CORSOrigins, Loopback: s.opts.Loopback, AllowedHosts: s.opts.AllowedHosts})
	r.Use(RequestID, Logger(s.deps.Logger), Recover, guard, CORS(CORSOptions{Origins: s.opts.CORSOrigins}))
	r.NotFound(s.notFound)
	r.MethodNotAllowed(MethodNotAllowed)

	r.Get("/health", s.health)
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)

	r.Group(func(r chi.Router) {
		r.Use(Auth(AuthOptions{Key: s.opts.APIKey}))
		if s.deps.Metrics != nil {
			r.Method(http.MethodGet, "/metrics", s.deps.Metrics.Handler())
		}
		r.With(BodyLimit(s.opts.MaxBodyBytes)).Post("/v1/chat/completions", s.chatCompletions)
		s.mountModels(r)
		s.mountSessions(r)
		s.mountAudio(r)
		s.mountRealtime(r)
	})
	return r
}

// HTTPServer returns an http.Server for this handler on addr with the
// timeouts streaming needs: ReadHeaderTimeout 10s (slow-header clients),
// IdleTimeout 2 minutes, MaxHeaderBytes 64 KiB, and no WriteTimeout or
// ReadTimeout, which would cut long streams and uploads (streams set their
// own per-write deadlines; bodies are bounded by size). Set TLSConfig and
// BaseContext on it as needed.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.deps.Logger.Handler(), slog.LevelWarn),
	}
}

// Scheduler returns the scheduler all model work runs on.
func (s *Server) Scheduler() *pipeline.Scheduler { return s.deps.Scheduler }

// Slots returns the model slots.
func (s *Server) Slots() *pipeline.Slots { return s.slots }

// Sessions returns the session registry.
func (s *Server) Sessions() *sessions.Registry { return s.deps.Sessions }

// Codecs returns the audio codecs, or nil when the server has none.
func (s *Server) Codecs() pipeline.Codecs { return s.deps.Codecs }

// Logger returns the server's logger; handlers should prefer
// LoggerFrom(r.Context()), which carries the request id.
func (s *Server) Logger() *slog.Logger { return s.deps.Logger }

// Options returns the options with defaults applied.
func (s *Server) Options() Options { return s.opts }

// BaseContext returns the parent context of sessions that outlive their
// request.
func (s *Server) BaseContext() context.Context { return s.base }

// SSEOptions returns the write timeout and keepalive every stream uses.
func (s *Server) SSEOptions() *sse.Options {
	return &sse.Options{WriteTimeout: s.opts.WriteTimeout, KeepAlive: s.opts.KeepAlive}
}

// BodyLimit returns middleware bounding request bodies to limit bytes
// (413 beyond); zero means Options.MaxBodyBytes. Audio upload routes pass
// Options().MaxUploadBytes.
func (s *Server) BodyLimit(limit int64) func(http.Handler) http.Handler {
	if limit <= 0 {
		limit = s.opts.MaxBodyBytes
	}
	return BodyLimit(limit)
}

// startRequestWork creates a request-scoped session of kind whose work is
// cancelled when ctx ends (usually the request's context), subscribes to
// it before any work starts (so no event can precede the subscriber), and
// calls start, which submits the work with sess.Context() and sess as
// sink. When start fails, the session ends with its error, the
// subscription is closed and the error is returned. Otherwise the session
// is marked started, and the caller must close sub and EndSession(sess,
// nil) when its response is done.
func (s *Server) startRequestWork(ctx context.Context, kind sessions.Kind, start func(sess *sessions.Session) error) (*sessions.Session, *sessions.Subscriber, error) {
	sess, err := s.deps.Sessions.Create(ctx, kind, true)
	if err != nil {
		return nil, nil, err
	}
	sub, err := sess.Subscribe(0)
	if err != nil {
		s.EndSession(sess, err)
		return nil, nil, err
	}
	if err := start(sess); err != nil {
		s.EndSession(sess, err)
		sub.Close()
		return nil, nil, err
	}
	sess.Started()
	return sess, sub, nil
}

// EndSession forgets a session whose response is done. With a non-nil err
// (the work could not be started) it first ends the session with err, so
// the session counts as finished and its subscribers see the error. It is
// safe to call more than once.
func (s *Server) EndSession(sess *sessions.Session, err error) {
	if err != nil {
		sess.Cancel(err)
	}
	s.deps.Sessions.Remove(sess)
}
