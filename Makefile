# Lockstep: the two commands a newcomer needs are `make demo` and `make test`.
# Every target installs what it is missing first (build/install-deps.sh is
# idempotent and does nothing when all is there).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
BIN       := build/bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/lockstep-sync/lockstep/agent/internal/app.Version=$(VERSION)
DESKTOP_LDFLAGS := -s -w -X main.version=$(VERSION)
DEPS      := build/install-deps.sh
DEMO_DIR  ?= $(CURDIR)/.demo
DEMO_LISTEN ?= 127.0.0.1:7443
GO_DIRS   := agent desktop shared
WEBKIT_TAG = $(shell $(DEPS) --print-webkit-tag 2>/dev/null)
DESKTOP_TAGS = desktop,production$(if $(WEBKIT_TAG),$(comma)$(WEBKIT_TAG))
comma := ,

.PHONY: soak help demo test deps-test fmt-check vet go-test frontend-test frontend-build cross \
        build build-agent build-desktop bench clean

help:
	@echo "make demo   build everything and start an agent (and the desktop app when there is a display)"
	@echo "make test   install what is missing and run every test"
	@echo "make build  agent and desktop binaries for Linux and Windows into $(BIN)/"
	@echo "make bench  benchmarks, with the ratios the goals are stated in"
	@echo "make soak   longer simulation and chaos runs of the sync engine"

# ---- test ------------------------------------------------------------------

deps-test:
	$(DEPS) --go --frontend

test: deps-test fmt-check vet go-test frontend-test cross
	@echo "make test: all checks passed"

fmt-check:
	@out=$$(gofmt -l $(GO_DIRS) frontend/*.go); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./...
	$(GO) vet -tags licensetest ./...

go-test:
	$(GO) test -race -count=1 -tags licensetest -timeout 15m ./...

frontend-test:
	npm --prefix frontend test

frontend-build:
	npm --prefix frontend run build

# Windows cross-builds: no cgo needed for either program.
cross: frontend-build
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/lockstep-agent.exe ./agent
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) build -tags desktop,production -trimpath -ldflags "$(DESKTOP_LDFLAGS) -H windowsgui" -o $(BIN)/lockstep.exe ./desktop

# ---- build -----------------------------------------------------------------

build-agent:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/lockstep-agent ./agent

build-desktop: frontend-build
	$(DEPS) --desktop
	$(GO) build -tags $(DESKTOP_TAGS) -trimpath -ldflags "$(DESKTOP_LDFLAGS)" -o $(BIN)/lockstep ./desktop

build: deps-test build-agent build-desktop cross

# ---- demo ------------------------------------------------------------------

demo: deps-test build-agent
	@if [ -n "$${DISPLAY:-}" ]; then $(MAKE) --no-print-directory build-desktop || echo "demo: desktop app not built; continuing with the agent alone"; fi
	build/demo.sh "$(BIN)/lockstep-agent" "$(DEMO_DIR)" "$(DEMO_LISTEN)" "$(BIN)/lockstep"

# ---- bench -----------------------------------------------------------------

bench: deps-test build-agent
	build/bench.sh "$(BIN)/lockstep-agent"

# Longer variants of the engine's simulation and chaos tests (about 20 minutes).
soak: deps-test
	LOCKSTEP_SOAK=1 $(GO) test -count=1 -tags licensetest -timeout 90m -run 'Simulation|Chaos|Faults' -v ./agent/ ./agent/internal/syncer

clean:
	rm -rf $(BIN) frontend/dist
