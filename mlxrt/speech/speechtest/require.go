package speechtest

import (
	"fmt"
	"os"
	"testing"
)

// RequireEnv names the environment variable that turns missing speech
// engines into failures: with OMINIX_REQUIRE_SPEECH=1 (CI sets it), a
// test that would skip because pocketsphinx, flite, Debian's en-us model
// or the recordings speech tests use are absent — or because the binary
// was built without their build tags — fails instead, so a suite cannot
// pass by skipping its speech tests.
const RequireEnv = "OMINIX_REQUIRE_SPEECH"

// Required reports whether RequireEnv is set to 1.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// Missing ends the test because something speech needs is absent: it
// skips with the reason, or fails with it when Required.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	reason := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("%s=1 but %s", RequireEnv, reason)
	}
	t.Skipf("%s (set %s=1 to make this a failure)", reason, RequireEnv)
}
