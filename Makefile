# Velo — build, test and benchmark entry points. `make test` is what CI runs.
GO          ?= go
QEMU        ?= qemu-aarch64-static
STATICCHECK ?= $(CURDIR)/.bin/staticcheck
# Packages that start goroutines; they also run under the race detector.
RACE_PKGS   ?= ./...
GEN_DIR     := kernels/asm/_gen
GEN_FAMILIES = $(patsubst $(GEN_DIR)/%/,%,$(wildcard $(GEN_DIR)/*/))

.PHONY: all build demo test test-unit test-race test-purego test-arm64 lint vet gen gen-check bench bench-kernels clean

all: build

build:
	$(GO) build ./...

## demo: run the main job on built-in data.
demo:
	$(GO) run ./cmd/velo demo

## test: every check CI runs.
test: lint gen-check test-unit test-race test-purego test-arm64

test-unit:
	$(GO) test -count=1 ./...

test-race:
	$(GO) test -count=1 -short -race $(RACE_PKGS)

test-purego:
	$(GO) vet -tags purego ./...
	$(GO) test -count=1 -tags purego ./...

## test-arm64: cross-compile the tests for arm64 and run them under qemu.
test-arm64:
	@command -v $(QEMU) >/dev/null || { echo "$(QEMU) not found: apt-get install -y qemu-user-static" >&2; exit 1; }
	VELO_TEST_EXEC=$(QEMU) GOARCH=arm64 $(GO) test -count=1 -short -exec $(QEMU) ./...
	VELO_TEST_EXEC=$(QEMU) GOARCH=arm64 $(GO) test -count=1 -short -tags purego -exec $(QEMU) ./...

$(CURDIR)/.bin/staticcheck:
	GOBIN=$(CURDIR)/.bin GOARCH= $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint: vet $(STATICCHECK)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(STATICCHECK) ./...
	GOARCH=arm64 $(STATICCHECK) ./...

vet:
	$(GO) vet ./...
	GOARCH=arm64 $(GO) vet ./...

## gen: regenerate the amd64 assembly from the avo programs in kernels/asm/_gen.
gen:
	@for f in $(GEN_FAMILIES); do \
	  echo "gen $$f"; \
	  (cd $(GEN_DIR) && $(GO) run ./$$f -out ../$${f}_amd64.s -stubs ../$${f}_amd64.go -pkg asm) || exit 1; \
	done

## gen-check: fail when the committed assembly differs from what the generators produce.
gen-check:
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	for f in $(GEN_FAMILIES); do \
	  (cd $(GEN_DIR) && $(GO) run ./$$f -out $$tmp/$${f}_amd64.s -stubs $$tmp/$${f}_amd64.go -pkg asm) || exit 1; \
	  for x in $${f}_amd64.s $${f}_amd64.go; do \
	    cmp -s $$tmp/$$x kernels/asm/$$x || { echo "kernels/asm/$$x is stale: run make gen"; diff $$tmp/$$x kernels/asm/$$x | head -20; exit 1; }; \
	  done; \
	done; echo "gen-check: $(words $(GEN_FAMILIES)) families up to date"

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## bench-kernels: per kernel and level: GB/s, elements/s and speed-up over generic, from one run.
bench-kernels:
	VELO_KERNEL_REPORT=1 $(GO) test -count=1 -timeout 0 -run '^TestKernelReport$$' -v ./kernels/ | grep -v -e '^=== RUN' -e '^--- PASS'

## bench-peers: Velo vs DuckDB (cgo, own module bench/peers) vs naive Go on the same rows, one run.
## Not part of `make test`; -mod=mod lets its go.sum follow new main-module dependencies.
## Override e.g. PEERS_ARGS="--rows 1000000 --partitions 1".
PEERS_ARGS ?= --rows 10000000 --partitions 1,2 --reps 5
.PHONY: bench-peers
bench-peers:
	cd bench/peers && $(GO) run -mod=mod . $(PEERS_ARGS)

clean:
	$(GO) clean -testcache
