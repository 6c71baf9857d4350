# Lockstep: the two commands a newcomer needs are `make demo` and `make test`.
# Every target installs what it is missing first (build/install-deps.sh is
# idempotent and does nothing when all is there).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
BIN       := build/bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# Release builds embed the vendor's license public keys (the "kid:base64,..."
# line `go run ./agent/tools/licensegen keygen` prints) and, optionally, the
# default telemetry endpoint:
#   make package VERSION=1.2.0 LICENSE_KEYS=prod-2026:BASE64
# Without LICENSE_KEYS the agent accepts no license (evaluation mode only);
# `lockstep-agent version` lists the keys a binary trusts.
LICENSE_KEYS ?=
TELEMETRY_ENDPOINT ?=
LICENSE_PKG := github.com/lockstep-sync/lockstep/agent/internal/license
LDFLAGS   := -s -w -X github.com/lockstep-sync/lockstep/agent/internal/app.Version=$(VERSION)$\
	$(if $(LICENSE_KEYS), -X $(LICENSE_PKG).productionKeys=$(LICENSE_KEYS))$\
	$(if $(TELEMETRY_ENDPOINT), -X $(LICENSE_PKG).defaultTelemetryEndpoint=$(TELEMETRY_ENDPOINT))
DESKTOP_LDFLAGS := -s -w -X main.version=$(VERSION)
DEPS      := build/install-deps.sh
# Where build/install-deps.sh --go installs Go when none (or too old a one)
# is on PATH; first on PATH for every recipe, so that toolchain is the one used.
GO_HOME   := $(shell $(DEPS) --print-go-home)
# Where it installs Node when the one on PATH is too old (Debian 12's).
NODE_HOME := $(shell $(DEPS) --print-node-home)
export PATH := $(GO_HOME)/bin:$(NODE_HOME)/bin:$(PATH)
# A Node from the Node project trusts only its own CA list, Debian's the
# system's: give it the system's too (a site's proxy CA lives there).
ifeq ($(NODE_EXTRA_CA_CERTS),)
ifneq ($(wildcard /etc/ssl/certs/ca-certificates.crt),)
export NODE_EXTRA_CA_CERTS := /etc/ssl/certs/ca-certificates.crt
endif
endif
DEMO_DIR  ?= $(CURDIR)/.demo
DEMO_LISTEN ?= 127.0.0.1:7443
GO_DIRS   := agent desktop shared
WEBKIT_TAG = $(shell $(DEPS) --print-webkit-tag 2>/dev/null)
DESKTOP_TAGS = desktop,production$(if $(WEBKIT_TAG),$(comma)$(WEBKIT_TAG))
comma := ,

.PHONY: soak help demo test deps-test deps-go deps-frontend fmt-check vet go-test frontend-test frontend-build cross \
        build build-agent build-desktop bench bench-ui bench-scale k8s-test clean smoke-desktop ui-test ui-serve package bindings generate \
        package-linux package-windows package-test fresh-test

help:
	@echo "make demo   build everything and start an agent (and the desktop app when there is a display)"
	@echo "make test   install what is missing and run every test"
	@echo "make build  agent and desktop binaries for Linux and Windows into $(BIN)/"
	@echo "make package  make build, the agent's .deb and .rpm, and the agent's and desktop's Windows installers (NSIS)"
	@echo "make ui-test  the UI's Playwright spec in headless Chromium against a real agent"
	@echo "make ui-serve the browser-test harness and a demo agent, for writing UI tests"
	@echo "make bench  benchmarks, with the ratios the goals are stated in"
	@echo "make bench-ui the live log's list with 100,000 lines in headless Chromium: frame times and work, as values"
	@echo "make bench-scale  the long runs: one agent at 100,000 items, a million pairs, 100 processes (one to two hours; sizes in build/bench-scale.sh)"
	@echo "make soak   longer simulation and chaos runs of the sync engine"
	@echo "make generate  the UI's wire types, method table and role table from shared/ (commit them)"
	@echo "make fresh-test  make and git only, in a debootstrap chroot: Go gets installed, the agent built, the demo started"

# ---- test ------------------------------------------------------------------

deps-test:
	$(DEPS) --go --frontend

deps-go:
	$(DEPS) --go

deps-frontend:
	$(DEPS) --frontend

# ui-test comes after cross, whose frontend-build it needs too.
test: deps-test fmt-check vet go-test k8s-test frontend-test cross ui-test smoke-desktop package-test
	@echo "make test: all checks passed"

fmt-check:
	@out=$$(gofmt -l $(GO_DIRS) build frontend/*.go); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./...
	$(GO) vet -tags licensetest ./...

# Chromium, Prometheus and the SMTP server are installed first so the
# harness's browser test, the metrics test and the notification tests run
# instead of skipping (LOCKSTEP_REQUIRE_BROWSER and LOCKSTEP_REQUIRE_PROMETHEUS
# turn a missing one into a failure; in CI, CI does for the SMTP server).
go-test:
	$(DEPS) --browser --prometheus --smtp
	LOCKSTEP_REQUIRE_BROWSER=1 LOCKSTEP_REQUIRE_PROMETHEUS=1 $(GO) test -race -count=1 -tags licensetest -timeout 15m ./...

# The Kubernetes manifests, decoded strictly into the API types by a module
# of their own (build/k8s), so the agent never links the Kubernetes API.
k8s-test: deps-go
	cd build/k8s && $(GO) vet ./... && $(GO) test -count=1 ./...

frontend-test:
	npm --prefix frontend test

frontend-build: deps-frontend
	npm --prefix frontend run build

# Windows cross-builds: no cgo needed for either program.
cross: frontend-build
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/lockstep-agent.exe ./agent
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) build -tags desktop,production -trimpath -ldflags "$(DESKTOP_LDFLAGS) -H windowsgui" -o $(BIN)/lockstep.exe ./desktop

# ---- build -----------------------------------------------------------------

build-agent: deps-go
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/lockstep-agent ./agent

build-desktop: frontend-build
	$(DEPS) --desktop
	$(GO) build -tags $(DESKTOP_TAGS) -trimpath -ldflags "$(DESKTOP_LDFLAGS)" -o $(BIN)/lockstep ./desktop

build: deps-test build-agent build-desktop cross

# The real desktop window under Xvfb: it must load the UI and not be blank.
# The screenshot stays in build/artifacts/ for CI to keep.
smoke-desktop: build-desktop
	$(DEPS) --xvfb
	build/smoke-desktop.sh $(BIN)/lockstep build/artifacts/desktop-smoke.png

# Regenerate the UI's wire types, method table and role table
# (frontend/src/api/generated) after changing shared/; commit them. A test
# (build/tsgen) fails while they are stale.
generate:
	$(GO) run ./build/tsgen

# Regenerate frontend/wailsjs after changing bridge.App's methods; commit it.
# chmod: the generator writes 0755 files, the Wails CLI 0644.
bindings:
	$(GO) run -tags bindings ./desktop
	chmod 644 frontend/wailsjs/runtime/* frontend/wailsjs/go/*.ts frontend/wailsjs/go/bridge/*

# ---- UI tests against a real agent -------------------------------------------

ui-test: deps-test frontend-build
	$(DEPS) --browser
	build/ui-test.sh

ui-serve: deps-test frontend-build
	build/ui-test.sh --serve

# The live log's virtual list with 100,000 lines, in headless Chromium behind
# the harness and a real agent: frame intervals and the list's work printed
# as values measured in this run (not part of make test; the machine's load
# shows in the 1,000-line baseline printed beside them).
bench-ui: deps-test frontend-build
	$(DEPS) --browser
	build/ui-test.sh node frontend/e2e/bench-logs.mjs

# A really fresh machine: a debootstrap chroot with only make and git builds
# the agent (install-deps installs Go) and starts the demo. Root, network and
# minutes, so not part of `make test`.
fresh-test:
	build/fresh-test.sh

# ---- package -----------------------------------------------------------------

WAILS ?= $(shell $(GO) env GOPATH)/bin/wails
PKG_ARCH ?= $(shell $(GO) env GOARCH)
PKG_OUT  ?= $(BIN)

# The agent's .deb and .rpm (build/package/nfpm.yaml): a static binary with
# the release ldflags, the systemd unit, a lockstep system user and
# /var/lib/lockstep. `make package-linux PKG_ARCH=arm64` cross-builds.
package-linux: deps-go
	GOOS=linux GOARCH=$(PKG_ARCH) CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" \
		-o $(PKG_OUT)/linux-$(PKG_ARCH)/lockstep-agent ./agent
	GO="$(GO)" build/package.sh linux $(PKG_OUT)/linux-$(PKG_ARCH)/lockstep-agent $(PKG_ARCH) "$(VERSION)" $(PKG_OUT)

# The agent's Windows installer (build/windows/agent/installer.nsi), when
# makensis is installed or installable.
package-windows: deps-go
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" \
		-o $(PKG_OUT)/windows-amd64/lockstep-agent.exe ./agent
	@if ! $(DEPS) --nsis; then \
		echo "make package: makensis could not be installed, so NO Windows installer of the agent was built."; \
		exit 0; \
	fi; \
	build/package.sh windows $(PKG_OUT)/windows-amd64/lockstep-agent.exe "$(VERSION)" $(PKG_OUT)

# Installs, upgrades and purges the .deb for real (root, as in CI), and builds
# the Windows installer; see the script's header.
package-test: deps-go
	GO="$(GO)" build/package-test.sh

# The Windows exe rebuilt by the Wails CLI (icon, manifest, version info),
# plus its NSIS installer, next to the binaries of make build.
package: build package-linux package-windows
	@if ! command -v makensis >/dev/null 2>&1; then \
		echo "make package: makensis is not installed, so NO Windows installer was built."; \
		echo "make package: install it with: build/install-deps.sh --nsis"; \
		exit 0; \
	fi; \
	$(DEPS) --wails-cli && \
	$(WAILS) build -compiler ./build/wails-go -platform windows/amd64 -nsis \
		-s -m -nosyncgomod -skipbindings -trimpath -ldflags "$(DESKTOP_LDFLAGS)" && \
	ls -l $(BIN)/*installer*.exe

# ---- demo ------------------------------------------------------------------

# Only Go is needed for the agent; the desktop app (and so Node.js) only when
# there is a display to show it.
demo: deps-go build-agent
	@if [ -n "$${DISPLAY:-}" ]; then $(MAKE) --no-print-directory build-desktop || echo "demo: desktop app not built; continuing with the agent alone"; fi
	build/demo.sh "$(BIN)/lockstep-agent" "$(DEMO_DIR)" "$(DEMO_LISTEN)" "$(BIN)/lockstep"

# ---- bench -----------------------------------------------------------------

bench: deps-test build-agent
	build/bench.sh "$(BIN)/lockstep-agent"

# One agent at scale on the real binary, every scale goal measured: long, run alone.
bench-scale: deps-go
	build/bench-scale.sh

# Longer variants of the engine's simulation and chaos tests (about 20 minutes).
soak: deps-test
	LOCKSTEP_SOAK=1 $(GO) test -count=1 -tags licensetest -timeout 90m -run 'Simulation|Chaos|Faults' -v ./agent/ ./agent/internal/syncer

clean:
	rm -rf $(BIN) frontend/dist build/artifacts
