package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/ominix/ominix-api"

type goPackage struct {
	ImportPath string
	Dir        string
	Deps       []string
	Imports    []string
	CgoFiles   []string
	GoFiles    []string
	Doc        string
}

// listPackages runs go list over the module with every native build tag on,
// so cgo files count too.
func listPackages(t *testing.T) []goPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-tags", "pocketsphinx flite opus lame", "-deps=false", "-json", module+"/...")
	cmd.Dir = repoRoot(t)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Run(), errb.String())
	var pkgs []goPackage
	dec := json.NewDecoder(&out)
	for dec.More() {
		var p goPackage
		require.NoError(t, dec.Decode(&p))
		pkgs = append(pkgs, p)
	}
	// Deps needs a second pass with -deps semantics per package.
	for i := range pkgs {
		cmd := exec.Command("go", "list", "-tags", "pocketsphinx flite opus lame", "-f", "{{join .Deps \"\\n\"}}", pkgs[i].ImportPath)
		cmd.Dir = repoRoot(t)
		b, err := cmd.Output()
		require.NoError(t, err)
		pkgs[i].Deps = strings.Fields(string(b))
	}
	return pkgs
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "go.mod not found")
		dir = parent
	}
}

func under(path, prefix string) bool {
	return path == module+"/"+prefix || strings.HasPrefix(path, module+"/"+prefix+"/")
}

// TestDependencyDirection keeps DESIGN.md's picture true: everything points
// at pipeline; pipeline has no HTTP and no cgo; sessions imports pipeline
// only; transport never imports mlxrt (engines reach it through pipeline's
// ports); cgo lives only in mlxrt; nothing imports cmd.
func TestDependencyDirection(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	rules := []struct {
		pkg    string
		banned []string
		why    string
	}{
		{"pipeline", []string{"net/http", "runtime/cgo", module + "/sessions", module + "/transport", module + "/mlxrt", module + "/web"},
			"pipeline is the core every other package points at: no HTTP, no cgo, no upward imports"},
		{"sessions", []string{"net/http", "runtime/cgo", module + "/transport", module + "/mlxrt", module + "/web"},
			"sessions depends on pipeline only"},
		{"transport", []string{module + "/mlxrt"},
			"transports reach engines through pipeline ports; cmd wires mlxrt in"},
		{"web", []string{module + "/"}, "web is static files"},
	}
	pkgs := listPackages(t)
	for _, p := range pkgs {
		for _, r := range rules {
			if !under(p.ImportPath, r.pkg) || strings.HasSuffix(p.ImportPath, "test") {
				continue
			}
			for _, d := range p.Deps {
				for _, b := range r.banned {
					if d == b || (strings.HasSuffix(b, "/") && strings.HasPrefix(d, b)) || strings.HasPrefix(d, b+"/") {
						t.Errorf("%s imports %s: %s", p.ImportPath, d, r.why)
					}
				}
			}
		}
		if len(p.CgoFiles) > 0 && !under(p.ImportPath, "mlxrt") {
			t.Errorf("%s uses cgo: cgo is allowed only under mlxrt", p.ImportPath)
		}
		if under(p.ImportPath, "mlxrt") && !under(p.ImportPath, "mlxrt/hub") {
			for _, d := range p.Deps {
				if d == "net/http" {
					t.Errorf("%s imports net/http: only mlxrt/hub talks HTTP", p.ImportPath)
				}
			}
		}
		for _, d := range p.Deps {
			if under(d, "cmd") {
				t.Errorf("%s imports %s: nothing imports cmd", p.ImportPath, d)
			}
		}
	}
}

// TestEveryPackageHasDoc checks each package has one doc comment, in doc.go.
func TestEveryPackageHasDoc(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	for _, p := range listPackages(t) {
		if p.Doc == "" {
			t.Errorf("%s has no package doc comment", p.ImportPath)
			continue
		}
		_, err := os.Stat(filepath.Join(p.Dir, "doc.go"))
		if err != nil && p.ImportPath != module+"/cmd/ominix-api" {
			t.Errorf("%s keeps its package doc outside doc.go", p.ImportPath)
		}
	}
}

// testOnly reports whether a package the binary links is test
// infrastructure: a test-helper package (a path whose last element ends in
// "test", such as pipelinetest or hubtest, outside the standard library),
// the standard library's testing packages, or a test-only module.
func testOnly(path string, standard bool) bool {
	if standard {
		return path == "testing" || strings.HasPrefix(path, "testing/") || path == "net/http/httptest"
	}
	for _, m := range []string{"github.com/stretchr/testify", "go.uber.org/goleak"} {
		if path == m || strings.HasPrefix(path, m+"/") {
			return true
		}
	}
	return strings.HasSuffix(path[strings.LastIndex(path, "/")+1:], "test")
}

// TestBinaryLinksNoTestDoubles checks that the shipped binary, built with
// or without the native engines' tags, links no test doubles: fake hubs,
// scripted models and recorders must stay in tests.
func TestBinaryLinksNoTestDoubles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	// The check must see the module's test-helper packages for what they are.
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}}", module+"/...")
	cmd.Dir = repoRoot(t)
	out, err := cmd.Output()
	require.NoError(t, err)
	var helpers []string
	for _, p := range strings.Fields(string(out)) {
		if testOnly(p, false) {
			helpers = append(helpers, p)
		}
	}
	require.Subset(t, helpers, []string{module + "/pipeline/pipelinetest", module + "/mlxrt/hub/hubtest", module + "/mlxrt/llm/llmtest"})
	t.Logf("test-helper packages in the module: %v", helpers)

	for _, tags := range []string{"", "pocketsphinx flite opus lame"} {
		cmd := exec.Command("go", "list", "-deps", "-tags", tags, "-f", "{{.ImportPath}} {{.Standard}}", "./cmd/ominix-api")
		cmd.Dir = repoRoot(t)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		require.NoError(t, cmd.Run(), errb.String())
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		require.Contains(t, lines, module+"/pipeline false", "tags %q: the listing names the binary's packages", tags)
		for _, l := range lines {
			path, std, _ := strings.Cut(l, " ")
			if testOnly(path, std == "true") {
				t.Errorf("tags %q: the binary links %s, which belongs in tests", tags, path)
			}
		}
	}
}
