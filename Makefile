# Makefile of the venue. Tools go into ./bin (gitignored); `make deps` first
# on a fresh machine.

GO      ?= go
BIN     := $(CURDIR)/bin
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)

# Pinned tools. staticcheck 2026.1 (v0.7.0) is the first release that
# supports Go 1.26 code.
BTCD_VERSION        := v0.24.2
STATICCHECK_VERSION := v0.7.0
STATICCHECK         := $(BIN)/staticcheck

# Every test must finish in under 10 minutes.
TEST_TIMEOUT := 9m
# Time per Fuzz target in `make fuzz`.
FUZZTIME ?= 30s
BENCH_PKGS := ./matching/... ./journal/... ./sequencer/... ./fix/... ./loadtest/... ./backoffice/...
FUZZ_PKGS  := ./matching/... ./journal/... ./fix/... ./loadtest/... ./refdata/... ./backoffice/... ./server/...

.DEFAULT_GOAL := build
.PHONY: deps build test bench engine-ab crash hostile demo lint fuzz

# deps: Go modules, btcd and btcctl (regtest node for custody tests),
# staticcheck, a PostgreSQL answering on 127.0.0.1:5432, and g++ with
# QuickFIX C++ (libquickfix-dev) for the FIX interoperability test.
deps:
	$(GO) mod download
	GOBIN=$(BIN) $(GO) install github.com/btcsuite/btcd@$(BTCD_VERSION) github.com/btcsuite/btcd/cmd/btcctl@$(BTCD_VERSION)
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-quickfix.sh

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/venue ./cmd/venue

test:
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...
	cd third_party/quickfix && $(GO) test -count=1 . ./store/file/

# bench: packages without benchmarks (or not written yet) are skipped.
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(BENCH_PKGS)

# engine-ab: the working tree's matching engine against BASE's (a git
# revision), in one process, on the same flow: the paired ratio is the
# figure to trust on a noisy machine. make engine-ab BASE=HEAD~1
BASE ?= HEAD
engine-ab:
	scripts/engine-ab.sh $(BASE) -rounds 12

# crash: the long crash-recovery test of the sequencer (minutes; not in `make test`).
crash:
	bash -o pipefail -c 'VENUE_CRASH_LONG=1 $(GO) test -run TestCrashLong -count=1 -timeout 5m -v ./sequencer/ | grep -E "^(crash:|--- |ok|FAIL|PASS)"'

# hostile: 10,000 hostile FIX frames against the real venue while two
# sessions trade (make test sends 2,000).
hostile:
	FIX_HOSTILE_FRAMES=10000 $(GO) test -run TestHostileFramesAgainstTheVenue -count=1 -v -timeout 9m ./fix/

demo: build
	bash scripts/demo.sh

lint: $(STATICCHECK)
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt -l: these files need gofmt -w:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

fuzz:
	FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh $(FUZZ_PKGS)

$(STATICCHECK):
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
