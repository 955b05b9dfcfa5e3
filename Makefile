# hyperstack build targets. `make test` is what CI runs (through .ci/run); `make bench` refreshes
# docs/BENCHMARKS.md; `make proto` regenerates internal/geyserpb byte-identically.

GO              ?= go
BIN             := $(CURDIR)/.bin
PROTOC_GEN_GO   := google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.9
PROTOC_GEN_GRPC := google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1

.PHONY: build test test-go test-e2e bench proto fmt vet demo-archive

build:
	$(GO) build -o $(BIN)/hyperstack ./cmd/hyperstack

test:
	bash scripts/test.sh

bench:
	bash scripts/bench.sh

fmt:
	gofmt -w cmd internal fixtures

vet:
	$(GO) vet ./...

# protoc comes from Debian's protobuf-compiler (libprotoc 3.21.12), which also installs the well-known
# types under /usr/include; the Go plugins are pinned above and installed into .bin.
proto:
	GOBIN=$(BIN) $(GO) install $(PROTOC_GEN_GO)
	GOBIN=$(BIN) $(GO) install $(PROTOC_GEN_GRPC)
	PATH=$(BIN):$$PATH protoc -I proto -I /usr/include \
		--go_out=internal/geyserpb --go_opt=paths=source_relative \
		--go-grpc_out=internal/geyserpb --go-grpc_opt=paths=source_relative \
		proto/geyser.proto proto/solana-storage.proto

# The bundled demo archive: 2,000 slots of simulated SPL Token traffic, byte-identical for the seed.
DEMO_ARCHIVE := fixtures/demo-spl-token.db
demo-archive:
	rm -f $(DEMO_ARCHIVE)
	$(GO) run ./cmd/hyperstack sim --scenario spl-token --seed 1 --slots 2000 --txs-per-slot 0.5 --no-sync --out $(DEMO_ARCHIVE)
