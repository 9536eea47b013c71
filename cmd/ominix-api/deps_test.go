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
