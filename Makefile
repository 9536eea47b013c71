# ominix-api — the Makefile is an index of what you can do.
GO        ?= go
BIN       := bin/ominix-api
# Native engines are compiled in when their Debian libraries are present.
TAGS      := $(shell ./.ci/tags.sh)

.PHONY: run build test bench lint deps
run: deps build ## build and start the server on 127.0.0.1:8080
	./$(BIN)

build:
	$(GO) build -tags '$(TAGS)' -o $(BIN) ./cmd/ominix-api

deps: ## install the Debian packages the engines use (asks for sudo when needed)
	./.ci/install-deps.sh

test: ## every test, with the race detector
	$(GO) test -race -tags '$(TAGS)' ./... ./mlxrt/testdata

bench: ## benchmarks; see README for what each reports
	$(GO) test -tags '$(TAGS)' -run '^$$' -bench . -benchmem ./...

lint:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))"
	$(GO) vet -tags '$(TAGS)' ./...
	$(GO) mod tidy -diff
