package web_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// The browser suite: each test starts the real server binary (built once,
// with the native engines' tags) as a subprocess on a free port with the
// tiny random-weight model, opens the demo pages in headless Chromium with a
// WAV file as the microphone, and asserts what the pages show.
//
// Environment:
//   - OMINIX_REQUIRE_BROWSER=1 makes a missing Chromium (or flite/sox) a
//     failure instead of a skip; CI sets it.
//   - OMINIX_CHROMIUM overrides the browser executable (default
//     /usr/bin/chromium, then chromium or google-chrome on PATH).
//   - OMINIX_UPDATE_SCREENSHOTS=1 rewrites web/screenshots/*.png.

// spoken is the sentence flite speaks into the fake microphone; pocketsphinx
// recognizes it with a word error rate near 0.1.
const spoken = "Please call me back when you get home tonight."

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(suiteMain{m}, goleak.Cleanup(func(int) { suite.cleanup() }))
}

// suiteMain runs the tests, then stops the shared server before goleak
// looks for goroutines left running.
type suiteMain struct{ m *testing.M }

func (s suiteMain) Run() int {
	code := s.m.Run()
	if suite.shared != nil {
		suite.shared.stop()
	}
	return code
}

// suite holds what the tests share: built once, on first use.
var suite struct {
	once    sync.Once
	dir     string // temporary directory of the suite
	root    string // module root
	chrome  string // browser executable
	bin     string // server binary
	mic     string // fake microphone WAV
	skip    string // why the browser tests cannot run here
	err     error  // setup failure
	cleanup func()

	sharedOnce sync.Once
	shared     *server
	sharedErr  error
}

func init() { suite.cleanup = func() {} }

// setup finds the browser, builds the server and makes the microphone WAV.
func setup(t *testing.T) {
	t.Helper()
	suite.once.Do(func() {
		suite.skip, suite.err = prepare()
	})
	if suite.err != nil {
		t.Fatalf("browser suite setup: %v", suite.err)
	}
	if suite.skip != "" {
		if os.Getenv("OMINIX_REQUIRE_BROWSER") == "1" {
			t.Fatalf("OMINIX_REQUIRE_BROWSER=1 but %s", suite.skip)
		}
		t.Skip(suite.skip + " (set OMINIX_REQUIRE_BROWSER=1 to make this a failure)")
	}
}

func prepare() (skip string, err error) {
	suite.chrome = findChrome()
	if suite.chrome == "" {
		return "Chromium is not installed (apt-get install chromium, or set OMINIX_CHROMIUM)", nil
	}
	if _, err := os.Stat(suite.chrome); err != nil {
		return fmt.Sprintf("the browser %s cannot be used: %v", suite.chrome, err), nil
	}
	for _, tool := range []string{"flite", "sox"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " is not installed (needed to make the fake microphone's WAV; apt-get install " + tool + ")", nil
		}
	}
	root, err := filepath.Abs("..")
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", fmt.Errorf("module root not found above web/: %w", err)
	}
	suite.root = root
	dir, err := os.MkdirTemp("", "ominix-web-test-")
	if err != nil {
		return "", err
	}
	suite.dir = dir
	suite.cleanup = func() { _ = os.RemoveAll(dir) }
	if err := buildServer(); err != nil {
		return "", err
	}
	return "", makeMicWAV()
}

func findChrome() string {
	if p := os.Getenv("OMINIX_CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// buildServer builds cmd/ominix-api with the tags of the native engines
// installed here (.ci/tags.sh), as make build does.
func buildServer() error {
	tags, err := exec.Command("sh", filepath.Join(suite.root, ".ci", "tags.sh")).Output()
	if err != nil {
		return fmt.Errorf("run .ci/tags.sh: %w", err)
	}
	suite.bin = filepath.Join(suite.dir, "ominix-api")
	cmd := exec.Command("go", "build", "-tags", strings.Join(strings.Fields(string(tags)), ","), "-o", suite.bin, "./cmd/ominix-api")
	cmd.Dir = suite.root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build the server: %w\n%s", err, out)
	}
	return nil
}

// makeMicWAV speaks the sentence with flite and pads it with silence (sox):
// half a second before, four seconds after, so the server's VAD ends the
// turn before the file runs out.
func makeMicWAV() error {
	raw := filepath.Join(suite.dir, "spoken.wav")
	if out, err := exec.Command("flite", "-voice", "slt", "-t", spoken, "-o", raw).CombinedOutput(); err != nil {
		return fmt.Errorf("flite: %w\n%s", err, out)
	}
	suite.mic = filepath.Join(suite.dir, "mic.wav")
	if out, err := exec.Command("sox", raw, suite.mic, "pad", "0.5", "4").CombinedOutput(); err != nil {
		return fmt.Errorf("sox: %w\n%s", err, out)
	}
	return nil
}

// server is one running ominix-api subprocess.
type server struct {
	URL    string
	logs   *syncBuffer
	cmd    *exec.Cmd
	exited chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listeningRE = regexp.MustCompile(`msg=listening addr=(\S+)`)

// serverEnv is the environment the server starts with: the test process's
// own, minus every setting the server reads, plus the test's.
func serverEnv(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "OMINIX_"), k == "PORT", k == "HOST", k == "LLM_MODEL", k == "ASR_MODEL_DIR",
			k == "TTS_REF_AUDIO", k == "IMAGE_MODEL", k == "FLUX_MODEL_DIR", k == "ZIMAGE_MODEL_DIR":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HF_HUB_OFFLINE=1", "PORT=0", "HOST=127.0.0.1",
		"LLM_MODEL="+filepath.Join(suite.root, "mlxrt", "testdata", "models", "qwen3-f32"))
	return append(env, extra...)
}

// launchServer starts the server with extra environment settings and
// waits until it has logged its address. Stop it with stop.
func launchServer(extra ...string) (*server, error) {
	cmd := exec.Command(suite.bin)
	cmd.Env = serverEnv(extra)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{logs: &syncBuffer{}, cmd: cmd, exited: make(chan struct{})}
	addr := make(chan string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			_, _ = s.logs.Write([]byte(line + "\n"))
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	go func() {
		<-scanned
		_ = cmd.Wait()
		close(s.exited)
	}()
	select {
	case a := <-addr:
		s.URL = "http://" + a
		return s, nil
	case <-time.After(30 * time.Second):
		s.stop()
		return nil, fmt.Errorf("the server did not log its address within 30s; log:\n%s", s.logs.String())
	case <-s.exited:
		return nil, fmt.Errorf("the server exited at start; log:\n%s", s.logs.String())
	}
}

// stop interrupts the server (SIGINT, its graceful shutdown) and waits for
// it to exit, killing it after 20 s.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// tail is the end of the server's log, without the readiness polls.
func (s *server) tail(lines int) string {
	var keep []string
	for _, l := range strings.Split(strings.TrimRight(s.logs.String(), "\n"), "\n") {
		if !strings.Contains(l, "path=/readyz") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep[max(0, len(keep)-lines):], "\n")
}

// startServer starts a server of the test's own with extra environment
// settings and waits until it is ready (its start-up models loaded). It is
// stopped when the test ends; its log is printed if the test failed.
func startServer(t *testing.T, extra ...string) *server {
	t.Helper()
	s, err := launchServer(extra...)
	require.NoError(t, err)
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("server log (end):\n%s", s.tail(200))
		}
	})
	waitReady(t, s.URL)
	return s
}

// sharedServer is the server with the default configuration (the tiny
// LLM, pocketsphinx, flite), started on first use and shared by the tests
// that need nothing else; it stops when the suite ends. A failing test
// prints the end of its log.
func sharedServer(t *testing.T) *server {
	t.Helper()
	suite.sharedOnce.Do(func() {
		suite.shared, suite.sharedErr = launchServer()
	})
	require.NoError(t, suite.sharedErr)
	s := suite.shared
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log (end):\n%s", s.tail(200))
		}
	})
	waitReady(t, s.URL)
	return s
}

// waitReady polls /readyz until the models configured at start are loaded.
func waitReady(t *testing.T, base string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	pollEvery(t, 100*time.Millisecond, 90*time.Second, "server ready", func() bool {
		resp, err := c.Get(base + "/readyz")
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// poll calls ok every 20 ms until it returns true, failing the test after
// timeout.
func poll(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	pollEvery(t, 20*time.Millisecond, timeout, what, ok)
}

func pollEvery(t *testing.T, every, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		<-tick.C
	}
}

// browserOpts configure newBrowser.
type browserOpts struct {
	mic     bool // use the spoken WAV as the microphone
	askUser bool // leave out --use-fake-ui-for-media-stream (permission decisions stay with the page's settings)
}

// page is one browser tab with its console collected.
type page struct {
	t   *testing.T
	ctx context.Context
	mu  sync.Mutex
	log []chromedp.ConsoleMessage
}

// newBrowser starts a headless Chromium for this test and returns its
// first tab. The browser is stopped when the test ends; the page's console
// messages are logged then.
func newBrowser(t *testing.T, o browserOpts) *page {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(suite.chrome),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 900),
	}
	if !o.askUser {
		opts = append(opts, chromedp.Flag("use-fake-ui-for-media-stream", true))
	}
	if o.mic {
		// %noloop: the file plays once, then the device gives silence.
		opts = append(opts, chromedp.Flag("use-file-for-fake-audio-capture", suite.mic+"%noloop"))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	p := &page{t: t, ctx: ctx}
	console := chromedp.Console(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for m, err := range console {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.log = append(p.log, m)
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		wg.Wait()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, m := range p.log {
			t.Logf("browser console: %s", m)
		}
	})
	require.NoError(t, chromedp.Do(ctx), "start Chromium")
	return p
}

// do runs actions with a deadline.
func (p *page) do(timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	require.NoError(p.t, chromedp.Do(ctx, actions...))
}

// open navigates to url and waits until the element sel is there.
func (p *page) open(url, sel string) {
	p.t.Helper()
	p.do(30*time.Second, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS(sel)))
}

// eval evaluates a JavaScript expression (promises awaited) into T.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	v, err := tryEval[T](p, expr)
	require.NoError(p.t, err, "evaluate %s", expr)
	return v
}

func tryEval[T any](p *page, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// waitJS polls a JavaScript predicate until it is truthy.
func (p *page) waitJS(timeout time.Duration, what, expr string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, timeout+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		p.t.Fatalf("waiting for %s (%s): %v; status: %q", what, expr, err, p.text("#status"))
	}
}

// text is the text content of the first element sel matches ("" when none).
func (p *page) text(sel string) string {
	s, err := tryEval[string](p, fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel))
	if err != nil {
		return ""
	}
	return s
}

// screenshot saves a full-page PNG into the test's artifact directory and,
// with OMINIX_UPDATE_SCREENSHOTS=1, into web/screenshots for the README.
func (p *page) screenshot(name string) {
	p.t.Helper()
	png := p.screenshotArtifact(name)
	if os.Getenv("OMINIX_UPDATE_SCREENSHOTS") == "1" {
		require.NoError(p.t, os.MkdirAll("screenshots", 0o755))
		require.NoError(p.t, os.WriteFile(filepath.Join("screenshots", name+".png"), png, 0o644))
		p.t.Logf("updated screenshots/%s.png", name)
	}
}

// screenshotArtifact saves a full-page PNG into the test's artifact
// directory only, and returns it.
func (p *page) screenshotArtifact(name string) []byte {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(p.t, err, "screenshot")
	path := filepath.Join(p.t.ArtifactDir(), name+".png")
	require.NoError(p.t, os.WriteFile(path, png, 0o644))
	p.t.Logf("screenshot: %s", path)
	return png
}

// watchMeter records the loudest level the page's #meter shows (its
// data-db attribute) in window.maxMeterDb.
func (p *page) watchMeter() {
	p.t.Helper()
	eval[any](p, `(() => {
		window.maxMeterDb = -60;
		const m = document.getElementById("meter");
		new MutationObserver(() => {
			const db = Number(m.dataset.db);
			if (db > window.maxMeterDb) window.maxMeterDb = db;
		}).observe(m, { attributes: true, attributeFilter: ["data-db"] });
		return null;
	})()`)
}

// exceptions are the uncaught exceptions the page's console reported.
func (p *page) exceptions() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, m := range p.log {
		if m.IsException() {
			out = append(out, m.Text)
		}
	}
	return out
}

// denyMicrophone makes the page's origin refuse getUserMedia, as a person
// who clicked "Block" would.
func (p *page) denyMicrophone(origin string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	_, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "microphone"},
		Setting:    browser.PermissionSettingDenied,
		Origin:     origin,
	})
	require.NoError(p.t, err)
}
