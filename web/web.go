package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var files embed.FS

// FS returns the demo pages, rooted so that "index.html" is at the top.
func FS() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}
