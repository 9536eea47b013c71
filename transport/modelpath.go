package transport

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/ominix/ominix-api/pipeline"
)

// maxModelName bounds the model names the management API accepts.
const maxModelName = 1024

// hubPart is one half of a Hugging Face repo id: letters, digits, '-', '_'
// and '.', not starting or ending with '-' or '.', at most 96 characters
// (the hub's own rules); "--" and ".." are refused separately.
const hubPart = `[A-Za-z0-9_](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?`

var (
	hubID      = regexp.MustCompile(`^` + hubPart + `/` + hubPart + `$`)
	engineName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._:+-]{0,127}$`)
)

// errOutsideRoots is the one answer for a local path that is outside the
// model roots, does not exist, or cannot be resolved: the message must not
// tell a caller which, so the API cannot probe the file system.
var errOutsideRoots = &pipeline.Error{Kind: pipeline.KindInvalid, Param: "model", Code: "model_path_not_allowed",
	Message: "The model path is not inside an allowed model root (OMINIX_MODEL_ROOTS) or does not exist."}

// ResolveModelName applies the model path policy to a name given to the
// model management API and returns the name to load:
//
//   - a hub id ("org/name", the hub's characters, no "..", no "--") passes
//     through unchanged; loaders must treat every non-absolute name as a hub
//     id or an engine name, never as a path;
//   - an engine name without a slash ("pocketsphinx", "flite:slt") passes
//     through unchanged;
//   - an absolute path is resolved (filepath.Abs, then EvalSymlinks) and
//     must lie inside one of roots (absolute, symlink-free directories) and
//     be a directory or a regular file; the resolved path is returned, so a
//     symlink swapped later cannot redirect the load;
//   - a directory's whole tree is checked before any loader opens it:
//     every entry must be a regular file or a directory (no FIFOs,
//     sockets or devices), every symbolic link must resolve inside roots,
//     and the tree may hold at most 4096 entries, nested at most 8
//     directories deep. A single file is checked by itself: no built-in
//     loader opens anything beside a file it is given;
//   - empty names, relative paths ("./m", "../m", "a/b/c", "~/m") and names
//     with control characters are refused.
//
// Every refusal is a KindInvalid *pipeline.Error with Param "model". A path
// outside the roots, a missing one and one that cannot be resolved get the
// same message, and so do a link inside a model directory that leaves the
// roots and one that dangles, so errors never reveal what exists outside
// the roots. Offending entries inside a model directory are named relative
// to it.
func ResolveModelName(name string, roots []string) (string, error) {
	switch {
	case name == "":
		return "", modelErr("The model name is empty: give a hub id (org/name) or an absolute path inside a model root.")
	case len(name) > maxModelName:
		return "", modelErr("The model name is longer than %d bytes.", maxModelName)
	case strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return "", modelErr("The model name contains control characters.")
	case strings.HasPrefix(name, "/"):
		return resolveLocal(name, roots)
	case isHubID(name), engineName.MatchString(name) && !strings.Contains(name, ".."):
		return name, nil
	}
	return "", modelErr("%q is neither a hub id (org/name) nor an absolute path: relative paths are not accepted; "+
		"give the absolute path of a directory inside a model root (OMINIX_MODEL_ROOTS).", name)
}

func isHubID(name string) bool {
	return hubID.MatchString(name) && !strings.Contains(name, "..") && !strings.Contains(name, "--")
}

func resolveLocal(name string, roots []string) (string, error) {
	if len(roots) == 0 {
		return "", modelErr("Loading models from local paths is disabled on this server: set OMINIX_MODEL_ROOTS to the directories models may be loaded from.")
	}
	abs, err := filepath.Abs(name)
	if err != nil {
		return "", errOutsideRoots
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", errOutsideRoots
	}
	if !insideAny(real, roots) {
		return "", errOutsideRoots
	}
	st, err := os.Stat(real)
	if err != nil {
		return "", errOutsideRoots
	}
	switch {
	case st.IsDir():
		if err := checkModelTree(real, roots); err != nil {
			return "", err
		}
	case !st.Mode().IsRegular():
		return "", irregularEntry("")
	}
	return real, nil
}

// insideAny reports whether path is one of roots or lies below one. Both
// are absolute and clean; filepath.Rel makes "/models-evil" not count as
// inside "/models".
func insideAny(path string, roots []string) bool {
	for _, root := range roots {
		rel, err := filepath.Rel(root, path)
		if err != nil || filepath.IsAbs(rel) {
			continue
		}
		if rel == "." || (rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))) {
			return true
		}
	}
	return false
}

func modelErr(format string, args ...any) *pipeline.Error {
	e := pipeline.Invalid("model", format, args...)
	e.Code = "invalid_model"
	return e
}
