package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestDefaults(t *testing.T) {
	c, err := LoadConfig(nil, env())
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", c.Host)
	assert.Equal(t, 8080, c.Port)
	assert.Equal(t, "127.0.0.1:8080", c.Addr())
	assert.Empty(t, c.APIKey)
	assert.Nil(t, c.TLS)
	assert.Empty(t, c.ModelRoots)
	assert.Empty(t, c.CORSOrigins)
	assert.Equal(t, 64, c.MaxInFlight)
	assert.Equal(t, 256, c.Backlog)
	assert.Equal(t, int64(32<<20), c.MaxBodyBytes)
	assert.Equal(t, int64(26<<20), c.MaxUploadBytes)
	assert.Equal(t, 15*time.Second, c.ShutdownGrace)
	assert.Equal(t, 10*time.Second, c.WriteTimeout)
	assert.Equal(t, 15*time.Second, c.KeepAlive)
	assert.Equal(t, slog.LevelInfo, c.LogLevel)
	assert.Equal(t, "text", c.LogFormat)
	assert.Empty(t, c.Warnings)
}

func TestEnvAndFlagsOverride(t *testing.T) {
	e := env("PORT", "9000", "HOST", "localhost", "LLM_MODEL", "Qwen/Qwen3-0.6B", "ASR_MODEL_DIR", "/asr",
		"TTS_REF_AUDIO", "/ref.wav", "IMAGE_MODEL", "img", "FLUX_MODEL_DIR", "/flux", "ZIMAGE_MODEL_DIR", "/z",
		"OMINIX_CORS_ORIGINS", " https://App.example.com/ ,http://localhost:5173,", "OMINIX_MAX_INFLIGHT", "8",
		"OMINIX_BACKLOG", "0", "OMINIX_MAX_BODY_BYTES", "1048576", "OMINIX_MAX_UPLOAD_BYTES", "100MB",
		"OMINIX_SHUTDOWN_GRACE", "30", "OMINIX_WRITE_TIMEOUT", "2s", "OMINIX_SSE_KEEPALIVE", "1m",
		"OMINIX_LOG_LEVEL", "debug", "OMINIX_LOG_FORMAT", "json")
	c, err := LoadConfig(nil, e)
	require.NoError(t, err)
	assert.Equal(t, 9000, c.Port)
	assert.Equal(t, "localhost", c.Host)
	assert.Equal(t, "Qwen/Qwen3-0.6B", c.LLMModel)
	assert.Equal(t, "/asr", c.ASRModelDir)
	assert.Equal(t, "/ref.wav", c.TTSRefAudio)
	assert.Equal(t, "img", c.ImageModel)
	assert.Equal(t, "/flux", c.FluxModelDir)
	assert.Equal(t, "/z", c.ZImageModelDir)
	assert.Equal(t, []string{"https://app.example.com", "http://localhost:5173"}, c.CORSOrigins)
	assert.Equal(t, 8, c.MaxInFlight)
	assert.Equal(t, 0, c.Backlog)
	assert.Equal(t, int64(1<<20), c.MaxBodyBytes)
	assert.Equal(t, int64(100e6), c.MaxUploadBytes)
	assert.Equal(t, 30*time.Second, c.ShutdownGrace)
	assert.Equal(t, 2*time.Second, c.WriteTimeout)
	assert.Equal(t, time.Minute, c.KeepAlive)
	assert.Equal(t, slog.LevelDebug, c.LogLevel)
	assert.Equal(t, "json", c.LogFormat)

	c, err = LoadConfig([]string{"-port", "7000", "-host=::1", "-llm-model", "other", "-log-level", "warn"}, e)
	require.NoError(t, err)
	assert.Equal(t, 7000, c.Port, "flags win over env")
	assert.Equal(t, "::1", c.Host)
	assert.Equal(t, "[::1]:7000", c.Addr())
	assert.Equal(t, "other", c.LLMModel)
	assert.Equal(t, slog.LevelWarn, c.LogLevel)
	assert.Equal(t, "/asr", c.ASRModelDir, "env still applies where no flag is given")

	c, err = LoadConfig([]string{"-port", "0"}, env("PORT", "not-a-number"))
	require.NoError(t, err, "a flag replaces a bad env value instead of failing on it")
	assert.Equal(t, 0, c.Port)
}

func TestBindSafety(t *testing.T) {
	for _, host := range []string{"127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST", "localhost."} {
		_, err := LoadConfig(nil, env("HOST", host))
		assert.NoError(t, err, "loopback %s needs no key", host)
	}
	for _, host := range []string{"0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "example.com", "localhost.example.com"} {
		_, err := LoadConfig(nil, env("HOST", host))
		require.Error(t, err, "non-loopback %s without a key", host)
		assert.Contains(t, err.Error(), "refusing to listen")
		assert.Contains(t, err.Error(), "OMINIX_API_KEY")
		assert.Contains(t, err.Error(), "OMINIX_INSECURE=1")

		c, err := LoadConfig(nil, env("HOST", host, "OMINIX_API_KEY", "0123456789abcdef0123"))
		require.NoError(t, err, "with a key")
		assert.Empty(t, c.Warnings)

		c, err = LoadConfig(nil, env("HOST", host, "OMINIX_INSECURE", "1"))
		require.NoError(t, err, "insecure opt-in")
		require.Len(t, c.Warnings, 1)
		assert.Contains(t, c.Warnings[0], "without an API key")

		_, err = LoadConfig([]string{"-insecure"}, env("HOST", host))
		require.NoError(t, err, "-insecure flag")
	}
	// An empty HOST means every interface.
	_, err := LoadConfig([]string{"-host", ""}, env())
	require.Error(t, err)
	_, err = LoadConfig(nil, env("HOST", "0.0.0.0", "OMINIX_INSECURE", "maybe"))
	require.ErrorContains(t, err, "OMINIX_INSECURE")
	_, err = LoadConfig(nil, env("HOST", "0.0.0.0", "OMINIX_INSECURE", "0"))
	require.ErrorContains(t, err, "refusing")
}

func TestAPIKeySources(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	require.NoError(t, os.WriteFile(keyFile, []byte("  from-file-0123456789\n"), 0o600))

	c, err := LoadConfig(nil, env("OMINIX_API_KEY_FILE", keyFile))
	require.NoError(t, err)
	assert.Equal(t, "from-file-0123456789", c.APIKey)
	c, err = LoadConfig([]string{"-api-key-file", keyFile}, env())
	require.NoError(t, err)
	assert.Equal(t, "from-file-0123456789", c.APIKey)

	_, err = LoadConfig(nil, env("OMINIX_API_KEY", "other-key-0123456789", "OMINIX_API_KEY_FILE", keyFile))
	require.ErrorContains(t, err, "use one")
	assert.NotContains(t, err.Error(), "other-key", "keys never appear in errors")

	_, err = LoadConfig(nil, env("OMINIX_API_KEY", "has space"))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "has space")

	_, err = LoadConfig(nil, env("OMINIX_API_KEY_FILE", filepath.Join(dir, "missing")))
	require.Error(t, err)

	c, err = LoadConfig(nil, env("OMINIX_API_KEY", "short"))
	require.NoError(t, err)
	require.Len(t, c.Warnings, 1)
	assert.Contains(t, c.Warnings[0], "shorter than 16")
}

func TestInvalidValues(t *testing.T) {
	cases := []struct {
		env  []string
		args []string
		want string
	}{
		{env: []string{"PORT", "65536"}, want: `PORT="65536": out of range 0..65535`},
		{env: []string{"PORT", "-1"}, want: "out of range"},
		{env: []string{"PORT", "http"}, want: "not an integer"},
		{env: []string{"OMINIX_MAX_INFLIGHT", "0"}, want: "OMINIX_MAX_INFLIGHT"},
		{env: []string{"OMINIX_BACKLOG", "-3"}, want: "OMINIX_BACKLOG"},
		{env: []string{"OMINIX_MAX_BODY_BYTES", "12"}, want: "1KiB..4GiB"},
		{env: []string{"OMINIX_MAX_BODY_BYTES", "5GiB"}, want: "1KiB..4GiB"},
		{env: []string{"OMINIX_MAX_BODY_BYTES", "lots"}, want: "byte count"},
		{env: []string{"OMINIX_SHUTDOWN_GRACE", "forever"}, want: "duration"},
		{env: []string{"OMINIX_WRITE_TIMEOUT", "1ms"}, want: "out of range"},
		{env: []string{"OMINIX_LOG_LEVEL", "loud"}, want: "debug, info"},
		{env: []string{"OMINIX_LOG_FORMAT", "xml"}, want: "text or json"},
		{env: []string{"OMINIX_CORS_ORIGINS", "https://ok.example,ftp://x"}, want: "scheme://host"},
		{env: []string{"OMINIX_CORS_ORIGINS", "https://x.example/path"}, want: "scheme://host"},
		{env: []string{"OMINIX_CORS_ORIGINS", "x.example"}, want: "scheme://host"},
		{args: []string{"-bogus"}, want: "flag provided but not defined"},
		{args: []string{"extra"}, want: `unexpected argument "extra"`},
		{args: []string{"-port", "x"}, want: `-port="x"`},
	}
	for _, c := range cases {
		_, err := LoadConfig(c.args, env(c.env...))
		require.Error(t, err, "%v %v", c.env, c.args)
		assert.Contains(t, err.Error(), c.want)
	}
	_, err := LoadConfig([]string{"-help"}, env())
	assert.True(t, errors.Is(err, flag.ErrHelp))
	assert.Contains(t, Usage(), "OMINIX_MODEL_ROOTS")
}

func TestCORSSpecialOrigins(t *testing.T) {
	c, err := LoadConfig(nil, env("OMINIX_CORS_ORIGINS", "*"))
	require.NoError(t, err)
	assert.Equal(t, []string{"*"}, c.CORSOrigins)
}

func TestAllowedHosts(t *testing.T) {
	c, err := LoadConfig(nil, env())
	require.NoError(t, err)
	assert.Empty(t, c.AllowedHosts)
	c, err = LoadConfig(nil, env("OMINIX_ALLOWED_HOSTS", " API.example.com , ,mybox.lan:8080"))
	require.NoError(t, err)
	assert.Equal(t, []string{"api.example.com", "mybox.lan:8080"}, c.AllowedHosts)
	c, err = LoadConfig([]string{"-allowed-hosts", "*"}, env())
	require.NoError(t, err)
	assert.Equal(t, []string{"*"}, c.AllowedHosts)
	_, err = LoadConfig(nil, env("OMINIX_ALLOWED_HOSTS", "https://api.example.com"))
	require.ErrorContains(t, err, "not a host name")
}

func TestModelRoots(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	require.NoError(t, os.Mkdir(a, 0o755))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(a, link))
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	realA, err := filepath.EvalSymlinks(a)
	require.NoError(t, err)

	c, err := LoadConfig(nil, env("OMINIX_MODEL_ROOTS", a+"::"+link+":"))
	require.NoError(t, err)
	assert.Equal(t, []string{realA, realA}, c.ModelRoots, "absolute, symlinks resolved, empty entries skipped")

	t.Chdir(dir)
	c, err = LoadConfig(nil, env("OMINIX_MODEL_ROOTS", "a"))
	require.NoError(t, err)
	assert.Equal(t, []string{realA}, c.ModelRoots, "relative roots resolve against the working directory")

	_, err = LoadConfig(nil, env("OMINIX_MODEL_ROOTS", file))
	require.ErrorContains(t, err, "not a directory")
	_, err = LoadConfig(nil, env("OMINIX_MODEL_ROOTS", filepath.Join(dir, "nope")))
	require.ErrorContains(t, err, "no such file")
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeSelfSigned(t, dir)
	c, err := LoadConfig(nil, env("OMINIX_TLS_CERT", cert, "OMINIX_TLS_KEY", key))
	require.NoError(t, err)
	require.NotNil(t, c.TLS)
	assert.Len(t, c.TLS.Certificates, 1)

	_, err = LoadConfig(nil, env("OMINIX_TLS_CERT", cert))
	require.ErrorContains(t, err, "set both")
	_, err = LoadConfig([]string{"-tls-key", key}, env())
	require.ErrorContains(t, err, "set both")
	_, err = LoadConfig(nil, env("OMINIX_TLS_CERT", key, "OMINIX_TLS_KEY", cert))
	require.ErrorContains(t, err, "load TLS certificate")
	_, err = LoadConfig(nil, env("OMINIX_TLS_CERT", filepath.Join(dir, "none.pem"), "OMINIX_TLS_KEY", key))
	require.ErrorContains(t, err, "load TLS certificate")
}

func writeSelfSigned(t *testing.T, dir string) (certPath, keyPath string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(priv)
	require.NoError(t, err)
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	require.NoError(t, os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	return certPath, keyPath
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.255.255.254": true, "::1": true, "[::1]": true, "localhost": true, "::ffff:127.0.0.1": true,
		"fe80::1%lo": false, "": false, "0.0.0.0": false, "::": false, "128.0.0.1": false, "localhost.evil.com": false,
		"127.0.0.1.nip.io": false,
	} {
		assert.Equal(t, want, IsLoopback(host), host)
	}
}

func TestRunHelp(t *testing.T) {
	var out, errOut strings.Builder
	err := run(t.Context(), []string{"-help"}, env(), &out, &errOut)
	assert.True(t, errors.Is(err, flag.ErrHelp))
	assert.Contains(t, out.String(), "Usage: ominix-api")
}
