package transport

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/ominix/ominix-api/pipeline"
)

// Bounds of the model directory check (ResolveModelName's doc states
// them). Real models sit far below both: a
// Hugging Face snapshot holds tens of files, pocketsphinx's en-us model one
// subdirectory, a git clone of a model repository a few hundred entries in
// .git. The bounds keep a hostile tree from making the check itself slow.
const (
	// maxModelEntries bounds the files and directories a model directory
	// may hold, counted over the whole tree (symlinked directories
	// included, each directory once).
	maxModelEntries = 4096
	// maxModelDepth bounds how many directories deep a model directory may
	// nest below itself.
	maxModelDepth = 8
	// readDirBatch is how many entries are read from a directory at a
	// time, so a huge directory is refused without listing all of it.
	readDirBatch = 256
)

// checkModelTree checks every entry below the model directory dir (absolute
// and resolved, inside roots) before a loader opens any of them: each must
// be a regular file or a directory, symbolic links are resolved and must
// stay inside roots (a Hugging Face snapshot's links into ../../blobs do
// when the cache is inside a root), and the tree must respect
// maxModelEntries and maxModelDepth. Loaders open what they find by name,
// and opening a FIFO blocks until a writer appears, which no load timeout
// can interrupt; a link out of the roots would let a load read any file.
//
// Refusals are KindInvalid *pipeline.Error values with Param "model" that
// name the offending entry relative to dir, which is inside the roots, and
// never say where a link points or whether its target exists.
func checkModelTree(dir string, roots []string) error {
	w := &treeWalk{roots: roots, seen: map[string]bool{}}
	return w.dir(dir, "", 0)
}

// treeWalk is the state of one checkModelTree.
type treeWalk struct {
	roots   []string
	entries int
	seen    map[string]bool // resolved directories already checked (symlink cycles end here)
}

// dir checks the directory whose resolved path is real, reached as rel
// ("" for the model directory itself), depth levels below the model
// directory.
func (w *treeWalk) dir(real, rel string, depth int) error {
	if w.seen[real] {
		return nil
	}
	w.seen[real] = true
	if depth > maxModelDepth {
		return modelErr("The model directory nests directories more than %d levels deep (at %s).", maxModelDepth, entryName(rel))
	}
	// O_NONBLOCK: should the directory be swapped for a FIFO since it was
	// looked at, opening it returns at once instead of waiting for a writer.
	f, err := os.OpenFile(real, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return unreadableEntry(rel)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.IsDir() {
		return irregularEntry(rel)
	}
	for {
		ents, err := f.ReadDir(readDirBatch)
		for _, e := range ents {
			if w.entries++; w.entries > maxModelEntries {
				return modelErr("The model directory holds more than %d files and directories; a model directory may hold at most that many.", maxModelEntries)
			}
			if err := w.entry(real, rel, e, depth); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return unreadableEntry(rel)
		}
	}
}

// entry checks one entry of the directory dirReal (reached as dirRel).
func (w *treeWalk) entry(dirReal, dirRel string, e fs.DirEntry, depth int) error {
	real, rel := filepath.Join(dirReal, e.Name()), filepath.Join(dirRel, e.Name())
	typ := e.Type()
	if typ&fs.ModeSymlink != 0 {
		// A dangling link and one leaving the roots get the same answer,
		// and the roots are checked before the target is looked at, so
		// nothing is learned about paths outside them.
		target, err := filepath.EvalSymlinks(real)
		if err != nil || !insideAny(target, w.roots) {
			return linkOutEntry(rel)
		}
		st, err := os.Stat(target)
		if err != nil {
			return linkOutEntry(rel)
		}
		real, typ = target, st.Mode().Type()
	}
	switch {
	case typ.IsDir():
		return w.dir(real, rel, depth+1)
	case typ.IsRegular():
		return nil
	}
	return irregularEntry(rel)
}

func irregularEntry(rel string) error {
	if rel == "" {
		return modelErr("The model path is not a directory or a regular file.")
	}
	return modelErr("The model directory holds %s, which is not a regular file or a directory (FIFOs, sockets and devices are refused).", entryName(rel))
}

func linkOutEntry(rel string) error {
	return &pipeline.Error{Kind: pipeline.KindInvalid, Param: "model", Code: errOutsideRoots.Code,
		Message: "The model directory holds " + entryName(rel) + ", a symbolic link that leads outside the allowed model roots (OMINIX_MODEL_ROOTS) or to nothing."}
}

func unreadableEntry(rel string) error {
	if rel == "" {
		return modelErr("The model directory cannot be read.")
	}
	return modelErr("The model directory holds %s, which cannot be read.", entryName(rel))
}

// entryName quotes a path relative to the model directory for a message,
// clipped so that a long or odd name cannot bloat or garble it.
func entryName(rel string) string {
	return strconv.Quote(clip(rel, 200))
}
