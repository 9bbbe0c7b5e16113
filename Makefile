# The README's two commands: `go run ./cmd/portvakt serve` and `make test`.

GO ?= go
# Two cores: run two test binaries at a time.
TESTFLAGS ?= -p 2 -timeout 15m

.PHONY: test test-deps check build bench bench-load mutate fuzz

# Installs what the tests need (chromium, postgresql, oathtool, Node.js and
# the openid-client npm package) when
# missing, then runs every test: unit, storage on SQLite and PostgreSQL,
# real SMTP, and the browser journeys.
test: test-deps check
	$(GO) test $(TESTFLAGS) ./...
	$(MAKE) fuzz

test-deps:
	./scripts/install-test-deps.sh

# Static checks that must hold before tests are worth running.
check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || (echo "gofmt needed:"; gofmt -l .; exit 1)
	$(GO) vet ./...
	./scripts/check-libc.sh

# Every Go fuzz target (func FuzzXxx in a _test.go file; found, not
# listed) for a bounded number of inputs, not a time: FUZZTIME=200x.
# One longer session: make fuzz FUZZTIME=100000x, or
#   go test -run '^$$' -fuzz '^FuzzNegotiate$$' -fuzztime 5m ./internal/i18n
FUZZTIME ?= 200x
fuzz:
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' internal cmd | sort); do \
	  for n in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
	    echo "fuzz ./$$(dirname $$f) $$n ($(FUZZTIME))"; \
	    out=$$($(GO) test -run '^$$' -fuzz "^$$n\$$" -fuzztime $(FUZZTIME) ./$$(dirname $$f) 2>&1) || { echo "$$out"; exit 1; }; \
	  done; \
	done

# The browser harness and the e2e journeys beside two CPU hogs, with every
# test budget scaled by PORTVAKT_TEST_TIMEOUT_SCALE (4 unless set): they must
# pass on a loaded machine too (docs/testing.md). One journey:
#   make test-stress STRESS='-run TestJourney_ResetByCode ./e2e/'
.PHONY: test-stress
STRESS ?=
test-stress: test-deps
	./scripts/test-stress.sh $(STRESS)

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/portvakt ./cmd/portvakt

bench:
	$(GO) test -run '^$$' -bench . -benchtime 2s ./...

# The load benchmark (docs/benchmarks.md): the server as its own process on
# loopback, SQLite and a throwaway PostgreSQL, 2, 8 and 64 clients, a
# bounded number of operations per scenario; a few minutes on 2 cores.
# Options: make bench-load BENCHFLAGS='-dbs sqlite -clients 8 -scale 0.5'
BENCHFLAGS ?=
bench-load:
	$(GO) run ./cmd/benchload $(BENCHFLAGS)

# Mutation testing (gremlins v0.6.0) of the security-critical packages, in a
# temporary copy of HEAD: slow, so not part of test. See docs/testing.md.
# One package:  make mutate MUTATE_PKGS=internal/session
# Some files:   make mutate MUTATE_PKGS='internal/flow=login.go,flow.go'
MUTATE_PKGS ?=
mutate:
	./scripts/mutate.sh $(MUTATE_PKGS)

# Release builds: static binaries for linux/amd64 and linux/arm64 in dist/,
# with the version (git describe, or VERSION=…) that `portvakt version`
# prints, their SHA-256 sums, and the CA bundle the container image copies.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
RELEASE_ARCHES ?= amd64 arm64
release:
	mkdir -p dist
	for arch in $(RELEASE_ARCHES); do \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o dist/portvakt-linux-$$arch ./cmd/portvakt || exit 1; \
	done
	cp /etc/ssl/certs/ca-certificates.crt dist/ca-certificates.crt
	cd dist && sha256sum portvakt-linux-* > SHA256SUMS

# The container image (Dockerfile, FROM scratch) with buildah from
# Debian's packages (apt-get install buildah); no registry is contacted.
# Docker format keeps the HEALTHCHECK (OCI has none); vfs storage and
# chroot isolation work inside a container or CI job without privileges.
BUILDAH ?= buildah --storage-driver vfs
image: release
	$(BUILDAH) bud --format docker --isolation chroot --build-arg TARGETARCH=$$($(GO) env GOARCH) -t portvakt:$(VERSION) .
