//go:build !unix

package smallfile

import "os"

const openFlags = os.O_RDONLY
