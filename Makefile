# ominix-api — the Makefile is an index of what you can do.
GO        ?= go
BIN       := bin/ominix-api
# Native engines (pocketsphinx, flite, libopus, LAME) are compiled in when
# their Debian libraries are present; see .ci/tags.sh. Expanded when a
# recipe runs (=, not :=), so `make run` sees what `deps` just installed.
TAGS       = $(shell ./.ci/tags.sh)
NPM_DIR   := transport/testdata/npm

.PHONY: run build test test-short bench bench-streams bench-all lint deps npm fuzz
run: deps build ## install what is missing, build, start on 127.0.0.1:8080
	./$(BIN)

build: ## build bin/ominix-api
	$(GO) build -tags '$(TAGS)' -o $(BIN) ./cmd/ominix-api

deps: ## install the Debian packages the engines and tests use (sudo when needed); check the Go toolchain
	./.ci/install-deps.sh
	./.ci/check-go.sh

npm: ## install the openai npm package the SDK tests drive (local folder, not global)
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 20+ (apt-get install nodejs npm)"; exit 1; }
	npm ci --prefix $(NPM_DIR) --no-audit --no-fund --loglevel=error

test: npm ## every test, with the race detector; then the CPU kernels' fallback paths. Browser screenshots land in out/test/_artifacts
	./.ci/check-go.sh
	mkdir -p out/test
	$(GO) test -race -tags '$(TAGS)' -artifacts -outputdir '$(CURDIR)/out/test' ./... ./mlxrt/testdata
	GODEBUG=cpu.avx512bf16=off,cpu.avx512vnni=off $(GO) test ./mlxrt/mx/... ./mlxrt/llm/
	GODEBUG=cpu.avx512f=off $(GO) test ./mlxrt/mx/... ./mlxrt/llm/
	$(GO) test -tags purego ./mlxrt/mx/... ./mlxrt/llm/

test-short: ## the fast subset, no browser or long speech round trips
	$(GO) test -short -race -tags '$(TAGS)' ./...

bench: ## the README's benchmarks (see "Measured"); the first run writes ~2 GB of random models to $TMPDIR
	$(GO) test -run '^$$' -bench Model -benchtime 8x -count 3 ./mlxrt/llm
	$(GO) test -run '^$$' -bench MemoryBandwidth -benchtime 8x ./mlxrt/mx
	$(GO) test -tags '$(TAGS)' -run '^$$' -bench 'ServingOverhead|TTFTOverhead' -benchtime 50x -count 5 ./transport/
	$(GO) test -tags '$(TAGS)' -run '^$$' -bench 'Delivery1000|LongJobIsolation' -benchtime 3x -count 3 ./transport/
	$(GO) test -tags '$(TAGS)' -run '^$$' -bench . -benchtime 1x -count 3 ./mlxrt/speech/pocketsphinx/
	$(GO) test -tags '$(TAGS)' -run '^$$' -bench . -benchtime 20x -count 3 ./mlxrt/speech/flite/
	$(GO) test -tags '$(TAGS)' -count=1 -v -run 'TestE2ERealtimeVoiceTurn|TestE2ERealtimeLatency' ./transport/ | grep -E 'first|completed'

bench-streams: ## how many live recognition streams the model thread holds (about 3 minutes)
	OMINIX_BENCH_STREAMS=1 $(GO) test -tags '$(TAGS)' -run '^$$' -bench RealtimeStreams -benchtime 1x ./mlxrt/speech/pocketsphinx/

bench-all: ## every benchmark in the tree
	$(GO) test -tags '$(TAGS)' -run '^$$' -bench . -benchtime 8x ./...

fuzz: ## a minute of each parser fuzzer
	$(GO) test -run '^$$' -fuzz FuzzParseHeader -fuzztime 60s ./mlxrt/safetensors
	$(GO) test -tags '$(TAGS)' -run '^$$' -fuzz FuzzDecode -fuzztime 60s ./mlxrt/audio
	$(GO) test -run '^$$' -fuzz FuzzClientEvent -fuzztime 60s ./transport/realtime
	$(GO) test -run '^$$' -fuzz FuzzDecodeChatRequest -fuzztime 60s ./transport/openai
	$(GO) test -run '^$$' -fuzz FuzzChatHandler -fuzztime 60s -fuzzminimizetime 5s ./transport
	$(GO) test -run '^$$' -fuzz FuzzResolveModelName -fuzztime 30s ./transport

lint: ## gofmt, go vet, go mod tidy leaves no diff
	test -z "$$(gofmt -l $$(git ls-files '*.go'))"
	$(GO) vet -tags '$(TAGS)' ./...
	$(GO) mod tidy -diff
