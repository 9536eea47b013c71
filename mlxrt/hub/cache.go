package hub

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// cache is one repository's folder in the hub cache:
// models--org--name/{blobs,snapshots,refs}, locks under .locks/.
type cache struct {
	root, repoDir, lockDir string
}

func newCache(root, repoID string) *cache {
	folder := "models--" + strings.ReplaceAll(repoID, "/", "--")
	return &cache{
		root:    root,
		repoDir: filepath.Join(root, folder),
		lockDir: filepath.Join(root, ".locks", folder),
	}
}

func (c *cache) blobPath(etag string) string { return filepath.Join(c.repoDir, "blobs", etag) }

func (c *cache) snapshotDir(commit string) string {
	return filepath.Join(c.repoDir, "snapshots", commit)
}

func (c *cache) pointerPath(commit, name string) string {
	return filepath.Join(c.snapshotDir(commit), filepath.FromSlash(name))
}

func (c *cache) refPath(rev string) string {
	return filepath.Join(c.repoDir, "refs", filepath.FromSlash(rev))
}

// commitFor maps a revision to the commit the cache recorded for it.
func (c *cache) commitFor(rev string) (string, error) {
	if commitHash.MatchString(rev) {
		return rev, nil
	}
	b, err := readSmall(c.refPath(rev), 256)
	if err != nil {
		return "", fmt.Errorf("no cached ref %q", rev)
	}
	commit := strings.TrimSpace(string(b))
	if !commitHash.MatchString(commit) {
		return "", fmt.Errorf("cached ref %q holds %q, not a commit hash", rev, commit)
	}
	return commit, nil
}

// snapshot returns the cached snapshot directory of rev if it is complete:
// config.json present and, with an index, every shard it names; every file
// in it must resolve (no dangling links).
func (c *cache) snapshot(rev string) (string, error) {
	commit, err := c.commitFor(rev)
	if err != nil {
		return "", err
	}
	dir := c.snapshotDir(commit)
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		return "", fmt.Errorf("cached snapshot %s has no config.json", commit)
	}
	var missing []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if _, err := os.Stat(p); err != nil {
			rel, _ := filepath.Rel(dir, p)
			missing = append(missing, rel)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	shards, err := indexShards(filepath.Join(dir, "model.safetensors.index.json"))
	if err != nil {
		return "", err
	}
	for _, s := range shards {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(s))); err != nil {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("cached snapshot %s is incomplete (missing %s)", commit, strings.Join(missing, ", "))
	}
	return dir, nil
}

// indexShards lists the shard files a safetensors index names.
func indexShards(p string) ([]string, error) {
	b, err := readSmall(p, 64<<20)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("model.safetensors.index.json: %w", err)
	}
	seen := map[string]bool{}
	var out []string
	for _, f := range idx.WeightMap {
		if !seen[f] && safeRepoPath(f) {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out, nil
}

// writeAtomic writes data to p through a temporary file and a rename.
func writeAtomic(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp := p + ".tmp-" + randSuffix()
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func randSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// link points snapshots/<commit>/<name> at blobs/<etag> with a relative
// symlink (as huggingface_hub), replacing what was there atomically. Where
// symlinks are not available it copies the blob.
func (c *cache) link(commit, name, etag string) error {
	ptr := c.pointerPath(commit, name)
	if err := os.MkdirAll(filepath.Dir(ptr), 0o755); err != nil {
		return err
	}
	blob := c.blobPath(etag)
	rel, err := filepath.Rel(filepath.Dir(ptr), blob)
	if err != nil {
		return err
	}
	if cur, err := os.Readlink(ptr); err == nil && cur == rel {
		return nil
	}
	tmp := ptr + ".tmp-" + randSuffix()
	if err := os.Symlink(rel, tmp); err != nil {
		if err := copyFile(blob, tmp); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, ptr); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

// cachedPointer reports whether snapshots/<commit>/<name> already resolves
// to a blob of the expected size.
func (c *cache) cachedPointer(commit, name string, size int64) bool {
	fi, err := os.Stat(c.pointerPath(commit, name))
	return err == nil && fi.Mode().IsRegular() && fi.Size() == size
}
