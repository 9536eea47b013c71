#!/bin/sh
# Checks that the Go toolchain can build this module (go.mod's "go" line),
# and says what to do when it cannot. Go 1.21 and later fetch the toolchain
# go.mod asks for by themselves (GOTOOLCHAIN=auto) when the network allows.
set -eu
cd "$(dirname "$0")/.."
want=$(sed -n 's/^go \([0-9.]*\)$/\1/p' go.mod)
if ! command -v go >/dev/null 2>&1; then
  echo "Go is not installed: this module needs Go $want or later (https://go.dev/dl/)." >&2
  exit 1
fi
have=$(go env GOVERSION 2>/dev/null | sed 's/^go//')
if [ -z "$have" ]; then
  echo "$(go version): too old for this module (needs Go $want or later, https://go.dev/dl/; Debian's golang package is older)." >&2
  exit 1
fi
oldest=$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n1)
if [ "$oldest" != "$want" ]; then
  echo "Go $have is older than the Go $want this module needs; install it from https://go.dev/dl/ (or let Go >= 1.21 fetch it: GOTOOLCHAIN=auto)." >&2
  exit 1
fi
