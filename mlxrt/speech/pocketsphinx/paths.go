package pocketsphinx

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ominix/ominix-api/pipeline"
)

// DefaultModelDir is where Debian's pocketsphinx-en-us package installs the
// US English model.
const DefaultModelDir = "/usr/share/pocketsphinx/model/en-us"

// ModelPaths locate the three parts of a PocketSphinx model.
type ModelPaths struct {
	HMM  string // acoustic model directory (mdef, means, variances, transition_matrices, …)
	LM   string // n-gram language model: ARPA text (.lm), binary (.lm.bin) or DMP (.lm.dmp)
	Dict string // pronunciation dictionary (.dict)
}

// DefaultPaths are the files of Debian's pocketsphinx-en-us package.
func DefaultPaths() ModelPaths {
	return ModelPaths{
		HMM:  filepath.Join(DefaultModelDir, "en-us"),
		LM:   filepath.Join(DefaultModelDir, "en-us.lm.bin"),
		Dict: filepath.Join(DefaultModelDir, "cmudict-en-us.dict"),
	}
}

// hmmFiles must all be present in an acoustic model directory; mixture
// weights come as either sendump or mixture_weights.
var hmmFiles = []string{"mdef", "means", "variances", "transition_matrices"}

// ResolveDir finds a model in dir, laid out like Debian's package (and like
// PocketSphinx's own model/en-us directory):
//
//	dir/
//	  <name>/            acoustic model: mdef, means, variances,
//	                     transition_matrices, sendump or mixture_weights,
//	                     optional feat.params and noisedict
//	  <name>.lm.bin      language model (or .lm, .lm.dmp); files whose name
//	                     contains "-phone" are phonetic models and are skipped
//	  <name>.dict        pronunciation dictionary
//
// The acoustic model may also sit directly in dir. Exactly one candidate of
// each kind must be found; otherwise the error lists what was found.
func ResolveDir(dir string) (ModelPaths, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return ModelPaths{}, fmt.Errorf("read model directory: %w", err)
	}
	var hmms, lms, dicts []string
	if isHMMDir(dir) {
		hmms = append(hmms, dir)
	}
	for _, e := range ents {
		name, full := e.Name(), filepath.Join(dir, e.Name())
		lower := strings.ToLower(name)
		switch {
		case e.IsDir() && isHMMDir(full):
			hmms = append(hmms, full)
		case e.IsDir() || strings.Contains(lower, "-phone"):
		case strings.HasSuffix(lower, ".lm.bin"), strings.HasSuffix(lower, ".lm"), strings.HasSuffix(lower, ".lm.dmp"):
			lms = append(lms, full)
		case strings.HasSuffix(lower, ".dict"), strings.HasSuffix(lower, ".dic"):
			dicts = append(dicts, full)
		}
	}
	p := ModelPaths{}
	if p.HMM, err = exactlyOne("acoustic model directory (with mdef, means, variances, transition_matrices)", hmms); err != nil {
		return ModelPaths{}, err
	}
	if p.LM, err = exactlyOne("language model (*.lm.bin, *.lm or *.lm.dmp)", lms); err != nil {
		return ModelPaths{}, err
	}
	if p.Dict, err = exactlyOne("dictionary (*.dict)", dicts); err != nil {
		return ModelPaths{}, err
	}
	return p, nil
}

func exactlyOne(what string, found []string) (string, error) {
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", fmt.Errorf("no %s found", what)
	}
	sort.Strings(found)
	return "", fmt.Errorf("more than one %s found: %s", what, strings.Join(found, ", "))
}

func isHMMDir(dir string) bool {
	for _, f := range hmmFiles {
		if !isFile(filepath.Join(dir, f)) {
			return false
		}
	}
	return isFile(filepath.Join(dir, "sendump")) || isFile(filepath.Join(dir, "mixture_weights"))
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// Check reports the first part of p that is missing or unreadable. The
// library exits the process on some malformed files, so callers check
// before handing paths to it.
func (p ModelPaths) Check() error {
	if !isHMMDir(p.HMM) {
		return fmt.Errorf("acoustic model %s: missing %s or sendump/mixture_weights", p.HMM, strings.Join(hmmFiles, ", "))
	}
	for _, f := range []struct{ what, path string }{{"language model", p.LM}, {"dictionary", p.Dict}} {
		st, err := os.Stat(f.path)
		if err != nil {
			return fmt.Errorf("%s: %w", f.what, err)
		}
		if !st.Mode().IsRegular() {
			return fmt.Errorf("%s %s: not a regular file", f.what, f.path)
		}
	}
	return nil
}

// modelMissing wraps a failed Check of the default model: the engine is
// compiled in but Debian's model package is not installed.
func modelMissing(err error) error {
	return &pipeline.Error{
		Kind:    pipeline.KindUnavailable,
		Code:    "model_not_installed",
		Message: "pocketsphinx en-us model is not installed (apt-get install pocketsphinx-en-us)",
		Err:     err,
	}
}
