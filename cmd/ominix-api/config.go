package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is everything ominix-api reads from its environment and command
// line. LoadConfig builds it once at start-up; nothing else reads the
// environment.
type Config struct {
	Host string // HOST, -host: address to listen on; default 127.0.0.1
	Port int    // PORT, -port: TCP port, 0 picks a free one; default 8080

	LLMModel       string // LLM_MODEL: hub id or local directory loaded into the llm slot at start
	ASRModelDir    string // ASR_MODEL_DIR: speech recognition model; empty means the pocketsphinx default
	TTSRefAudio    string // TTS_REF_AUDIO: reference audio for a voice-cloning TTS engine
	ImageModel     string // IMAGE_MODEL: image model (hub id or directory)
	FluxModelDir   string // FLUX_MODEL_DIR: FLUX.2-klein weights directory
	ZImageModelDir string // ZIMAGE_MODEL_DIR: Z-Image-Turbo weights directory

	// APIKey is OMINIX_API_KEY (or the contents of OMINIX_API_KEY_FILE);
	// empty means no authentication, allowed only on loopback unless
	// Insecure is set.
	APIKey string
	// ModelRoots are the directories local models may be loaded from
	// (OMINIX_MODEL_ROOTS, colon-separated), absolute with symlinks
	// resolved. Empty means no local paths: only hub ids.
	ModelRoots []string
	// CORSOrigins are the browser origins allowed to call the API
	// (OMINIX_CORS_ORIGINS, comma-separated), normalized; empty means none.
	CORSOrigins []string
	// AllowedHosts are host names requests may carry in their Host header
	// besides loopback names when listening on loopback
	// (OMINIX_ALLOWED_HOSTS, comma-separated, lowercased; "*" allows any),
	// e.g. the public name a local reverse proxy forwards. Empty means
	// loopback names only on a loopback bind, any name otherwise.
	AllowedHosts []string
	// Insecure (OMINIX_INSECURE=1) allows listening on a non-loopback
	// address without an API key.
	Insecure bool

	TLSCertFile string      // OMINIX_TLS_CERT: PEM certificate chain
	TLSKeyFile  string      // OMINIX_TLS_KEY: PEM private key
	TLS         *tls.Config // loaded from the two files; nil means plain HTTP

	MaxInFlight    int           // OMINIX_MAX_INFLIGHT: work items running at once; default 64
	ASRStreams     int           // OMINIX_ASR_STREAMS: concurrent recognition streams (one pocketsphinx decoder, ~93 MB, each); default 4
	Backlog        int           // OMINIX_BACKLOG: work items waiting beyond that (then 429/503); default 256
	MaxBodyBytes   int64         // OMINIX_MAX_BODY_BYTES: JSON request bodies; default 32 MiB
	MaxUploadBytes int64         // OMINIX_MAX_UPLOAD_BYTES: audio uploads; default 26 MiB (OpenAI's 25 MB files fit)
	ShutdownGrace  time.Duration // OMINIX_SHUTDOWN_GRACE: how long running streams may finish at shutdown; default 15s
	WriteTimeout   time.Duration // OMINIX_WRITE_TIMEOUT: per-flush write deadline of streams; default 10s
	KeepAlive      time.Duration // OMINIX_SSE_KEEPALIVE: SSE comment interval during silence; default 15s
	LogLevel       slog.Level    // OMINIX_LOG_LEVEL: debug, info, warn or error; default info
	LogFormat      string        // OMINIX_LOG_FORMAT: text or json; default text

	// Warnings are things worth logging at start (an open non-loopback
	// bind, a short API key).
	Warnings []string
}

// Addr is the listen address, host:port.
func (c Config) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// setting is one configuration value: where it comes from and how it is
// parsed. Flags override the environment; the environment overrides def.
type setting struct {
	flag   string
	env    string
	def    string
	help   string
	secret bool // never echo the value in errors
	isBool bool
	apply  func(c *Config, v string) error
}

var settings = []setting{
	{flag: "host", env: "HOST", def: "127.0.0.1", help: "address to listen on",
		apply: func(c *Config, v string) error {
			c.Host = strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")
			return nil
		}},
	{flag: "port", env: "PORT", def: "8080", help: "TCP port (0 picks a free one)", apply: func(c *Config, v string) (err error) {
		c.Port, err = intIn(v, 0, 65535)
		return err
	}},
	{flag: "llm-model", env: "LLM_MODEL", help: "LLM to load at start: hub id (org/name) or local directory; empty loads " + DefaultLLM + ", none loads nothing", apply: str(func(c *Config) *string { return &c.LLMModel })},
	{flag: "asr-model-dir", env: "ASR_MODEL_DIR", help: "speech recognition model directory (empty: pocketsphinx default)", apply: str(func(c *Config) *string { return &c.ASRModelDir })},
	{flag: "tts-ref-audio", env: "TTS_REF_AUDIO", help: "reference audio for a voice-cloning TTS engine", apply: str(func(c *Config) *string { return &c.TTSRefAudio })},
	{flag: "image-model", env: "IMAGE_MODEL", help: "image model to load at start", apply: str(func(c *Config) *string { return &c.ImageModel })},
	{flag: "flux-model-dir", env: "FLUX_MODEL_DIR", help: "FLUX.2-klein weights directory", apply: str(func(c *Config) *string { return &c.FluxModelDir })},
	{flag: "zimage-model-dir", env: "ZIMAGE_MODEL_DIR", help: "Z-Image-Turbo weights directory", apply: str(func(c *Config) *string { return &c.ZImageModelDir })},
	{env: "OMINIX_API_KEY", secret: true, help: "API key clients must send (Bearer or x-api-key); there is no flag, so it never shows in ps",
		apply: func(c *Config, v string) error { return setKey(c, v, "OMINIX_API_KEY") }},
	{flag: "api-key-file", env: "OMINIX_API_KEY_FILE", help: "file holding the API key", apply: readKeyFile},
	{flag: "model-roots", env: "OMINIX_MODEL_ROOTS", help: "colon-separated directories local models may be loaded from", apply: modelRoots},
	{flag: "cors-origins", env: "OMINIX_CORS_ORIGINS", help: "comma-separated browser origins allowed to call the API, or *", apply: corsOrigins},
	{flag: "allowed-hosts", env: "OMINIX_ALLOWED_HOSTS", help: "comma-separated Host names accepted besides localhost on a loopback HOST (e.g. a reverse proxy's name), or *", apply: allowedHosts},
	{flag: "insecure", env: "OMINIX_INSECURE", isBool: true, help: "allow a non-loopback HOST without an API key", apply: func(c *Config, v string) (err error) {
		c.Insecure, err = parseBool(v)
		return err
	}},
	{flag: "tls-cert", env: "OMINIX_TLS_CERT", help: "TLS certificate (PEM); with -tls-key serves HTTPS and wss://", apply: str(func(c *Config) *string { return &c.TLSCertFile })},
	{flag: "tls-key", env: "OMINIX_TLS_KEY", help: "TLS private key (PEM)", apply: str(func(c *Config) *string { return &c.TLSKeyFile })},
	{flag: "max-inflight", env: "OMINIX_MAX_INFLIGHT", def: "64", help: "work items running at once", apply: func(c *Config, v string) (err error) {
		c.MaxInFlight, err = intIn(v, 1, 1<<16)
		return err
	}},
	{flag: "asr-streams", env: "OMINIX_ASR_STREAMS", def: "4", help: "concurrent speech recognition streams (each holds a decoder of about 93 MB)", apply: func(c *Config, v string) (err error) {
		c.ASRStreams, err = intIn(v, 1, 64)
		return err
	}},
	{flag: "backlog", env: "OMINIX_BACKLOG", def: "256", help: "work items queued beyond max-inflight before 429/503", apply: func(c *Config, v string) (err error) {
		c.Backlog, err = intIn(v, 0, 1<<20)
		return err
	}},
	{flag: "max-body-bytes", env: "OMINIX_MAX_BODY_BYTES", def: "32MiB", help: "largest JSON request body (413 beyond)", apply: func(c *Config, v string) (err error) {
		c.MaxBodyBytes, err = parseSize(v)
		return err
	}},
	{flag: "max-upload-bytes", env: "OMINIX_MAX_UPLOAD_BYTES", def: "26MiB", help: "largest audio upload (413 beyond)", apply: func(c *Config, v string) (err error) {
		c.MaxUploadBytes, err = parseSize(v)
		return err
	}},
	{flag: "shutdown-grace", env: "OMINIX_SHUTDOWN_GRACE", def: "15s", help: "time running streams get to finish at shutdown", apply: func(c *Config, v string) (err error) {
		c.ShutdownGrace, err = parseDuration(v, 0, time.Hour)
		return err
	}},
	{flag: "write-timeout", env: "OMINIX_WRITE_TIMEOUT", def: "10s", help: "a stream client that takes no bytes for this long is dropped", apply: func(c *Config, v string) (err error) {
		c.WriteTimeout, err = parseDuration(v, 100*time.Millisecond, 10*time.Minute)
		return err
	}},
	{flag: "sse-keepalive", env: "OMINIX_SSE_KEEPALIVE", def: "15s", help: "SSE keepalive comment interval during silence", apply: func(c *Config, v string) (err error) {
		c.KeepAlive, err = parseDuration(v, 100*time.Millisecond, 10*time.Minute)
		return err
	}},
	{flag: "log-level", env: "OMINIX_LOG_LEVEL", def: "info", help: "debug, info, warn or error", apply: func(c *Config, v string) error {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return errors.New("want debug, info, warn or error")
		}
		return nil
	}},
	{flag: "log-format", env: "OMINIX_LOG_FORMAT", def: "text", help: "text or json", apply: func(c *Config, v string) error {
		if v != "text" && v != "json" {
			return errors.New("want text or json")
		}
		c.LogFormat = v
		return nil
	}},
}

// LoadConfig reads the configuration from args (without the program name)
// and getenv. Flags override environment variables, which override the
// defaults. It validates everything, loads the TLS key pair, resolves the
// model roots, and refuses to listen on a non-loopback address without an
// API key unless OMINIX_INSECURE=1. -h or -help returns flag.ErrHelp; print
// Usage then.
func LoadConfig(args []string, getenv func(string) string) (Config, error) {
	fs := flag.NewFlagSet("ominix-api", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	values := make(map[string]*flagValue, len(settings))
	for _, s := range settings {
		if s.flag != "" {
			v := &flagValue{isBool: s.isBool}
			values[s.flag] = v
			fs.Var(v, s.flag, s.help)
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Config{}, err
		}
		return Config{}, fmt.Errorf("%w (run with -help for the list of options)", err)
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q (run with -help for the list of options)", fs.Arg(0))
	}
	var c Config
	for _, s := range settings {
		v, source := s.def, "default"
		if e := strings.TrimSpace(getenv(s.env)); e != "" {
			v, source = e, s.env
		}
		if fv := values[s.flag]; fv != nil && fv.set {
			v, source = fv.value, "-"+s.flag
		}
		if err := s.apply(&c, v); err != nil {
			if s.secret {
				return Config{}, fmt.Errorf("%s: %w", source, err)
			}
			return Config{}, fmt.Errorf("%s=%q: %w", source, v, err)
		}
	}
	if err := c.validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// validate checks what involves several settings.
func (c *Config) validate() error {
	if err := c.loadTLS(); err != nil {
		return err
	}
	if !IsLoopback(c.Host) && c.APIKey == "" {
		if !c.Insecure {
			return fmt.Errorf("refusing to listen on %s without an API key: anyone who can reach that address could use this server. "+
				"Set OMINIX_API_KEY (clients then send \"Authorization: Bearer <key>\"), listen on a loopback address (HOST=127.0.0.1), "+
				"or set OMINIX_INSECURE=1 to run without authentication anyway", c.Addr())
		}
		c.Warnings = append(c.Warnings, fmt.Sprintf("listening on %s without an API key (OMINIX_INSECURE=1): anyone who can reach it can use it", c.Addr()))
	}
	if c.APIKey != "" && len(c.APIKey) < 16 {
		c.Warnings = append(c.Warnings, "OMINIX_API_KEY is shorter than 16 characters; use a long random key")
	}
	return nil
}

func (c *Config) loadTLS() error {
	switch {
	case c.TLSCertFile == "" && c.TLSKeyFile == "":
		return nil
	case c.TLSCertFile == "":
		return errors.New("OMINIX_TLS_KEY is set but OMINIX_TLS_CERT is not: set both (certificate and key) or neither")
	case c.TLSKeyFile == "":
		return errors.New("OMINIX_TLS_CERT is set but OMINIX_TLS_KEY is not: set both (certificate and key) or neither")
	}
	cert, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile)
	if err != nil {
		return fmt.Errorf("load TLS certificate %s and key %s: %w", c.TLSCertFile, c.TLSKeyFile, err)
	}
	c.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	return nil
}

// IsLoopback reports whether host names only this machine: "localhost",
// an address in 127.0.0.0/8, or ::1. Empty (all interfaces) and other names
// are not loopback.
func IsLoopback(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	if i := strings.IndexByte(host, '%'); i >= 0 { // IPv6 zone
		host = host[:i]
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func str(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *field(c) = v; return nil }
}

func setKey(c *Config, key, source string) error {
	if key == "" {
		return nil
	}
	if c.APIKey != "" && c.APIKey != key {
		return fmt.Errorf("both OMINIX_API_KEY and an API key file are set; %s conflicts: use one", source)
	}
	for _, r := range key {
		if r <= ' ' || r == 0x7f {
			return errors.New("the API key contains spaces or control characters, which cannot be sent in a header")
		}
	}
	c.APIKey = key
	return nil
}

func readKeyFile(c *Config, path string) error {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read API key file: %w", err)
	}
	key := strings.TrimSpace(string(b))
	if key == "" {
		return errors.New("the API key file is empty")
	}
	return setKey(c, key, "the API key file")
}

func modelRoots(c *Config, v string) error {
	for _, p := range strings.Split(v, ":") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return fmt.Errorf("model root %s: %w", p, err)
		}
		real, err := filepath.EvalSymlinks(abs)
		if err != nil {
			return fmt.Errorf("model root %s: %w", p, err)
		}
		st, err := os.Stat(real)
		if err != nil {
			return fmt.Errorf("model root %s: %w", p, err)
		}
		if !st.IsDir() {
			return fmt.Errorf("model root %s is not a directory", p)
		}
		c.ModelRoots = append(c.ModelRoots, real)
	}
	return nil
}

func corsOrigins(c *Config, v string) error {
	for _, o := range strings.Split(v, ",") {
		o = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(o)), "/")
		switch o {
		case "":
			continue
		case "*", "null":
			c.CORSOrigins = append(c.CORSOrigins, o)
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return fmt.Errorf("origin %q is not of the form scheme://host[:port] (e.g. https://app.example.com)", o)
		}
		c.CORSOrigins = append(c.CORSOrigins, o)
	}
	return nil
}

func allowedHosts(c *Config, v string) error {
	for _, h := range strings.Split(v, ",") {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" {
			continue
		}
		if strings.ContainsAny(h, "/@?# \t") {
			return fmt.Errorf("host %q is not a host name (e.g. api.example.com), nor *", h)
		}
		c.AllowedHosts = append(c.AllowedHosts, h)
	}
	return nil
}

func intIn(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, errors.New("not an integer")
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("out of range %d..%d", lo, hi)
	}
	return n, nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "0", "false", "no", "off":
		return false, nil
	case "1", "true", "yes", "on":
		return true, nil
	}
	return false, errors.New("want 1 or 0 (true/false, yes/no, on/off)")
}

// parseSize reads a byte count: a plain number of bytes, or a number with a
// unit (KiB, MiB, GiB binary; KB, MB, GB decimal). It must lie in 1 KiB..4 GiB.
func parseSize(v string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	num, mult := strings.TrimSpace(v), int64(1)
	for _, u := range units {
		if strings.HasSuffix(strings.ToUpper(num), strings.ToUpper(u.suffix)) {
			num, mult = strings.TrimSpace(num[:len(num)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return 0, errors.New("want a byte count such as 1048576, 512KiB or 32MiB")
	}
	if n <= 0 || n > (4<<30)/mult {
		return 0, errors.New("out of range 1KiB..4GiB")
	}
	n *= mult
	if n < 1<<10 {
		return 0, errors.New("out of range 1KiB..4GiB")
	}
	return n, nil
}

// parseDuration reads a Go duration ("15s", "1m30s") or whole seconds
// ("15") and checks lo <= d <= hi.
func parseDuration(v string, lo, hi time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		secs, serr := strconv.Atoi(v)
		if serr != nil {
			return 0, errors.New("want a duration such as 15s or 2m, or whole seconds")
		}
		d = time.Duration(secs) * time.Second
	}
	if d < lo || d > hi {
		return 0, fmt.Errorf("out of range %v..%v", lo, hi)
	}
	return d, nil
}

// flagValue records whether a flag was given, so unset flags fall back to
// the environment instead of to a flag default.
type flagValue struct {
	value  string
	set    bool
	isBool bool
}

func (f *flagValue) String() string { return f.value }
func (f *flagValue) Set(v string) error {
	f.value, f.set = v, true
	return nil
}
func (f *flagValue) IsBoolFlag() bool { return f.isBool }

// Usage describes every option: flag, environment variable, default.
func Usage() string {
	var b strings.Builder
	b.WriteString("Usage: ominix-api [options]\n\nEvery option can be set by flag or environment variable; flags win.\n\n")
	for _, s := range settings {
		name := "(no flag)"
		if s.flag != "" {
			name = "-" + s.flag
		}
		def := ""
		if s.def != "" {
			def = " (default " + s.def + ")"
		}
		fmt.Fprintf(&b, "  %-20s %-24s %s%s\n", name, s.env, s.help, def)
	}
	return b.String()
}

// NewLogger returns the structured logger the configuration asks for,
// writing to w.
func (c Config) NewLogger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
