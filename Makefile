# zkgo: a ZooKeeper-compatible coordination server.
GO ?= go
BIN := bin

.PHONY: build run test vet fmt clean

build:
	$(GO) build -o $(BIN)/zkserver ./cmd/zkserver
	$(GO) build -o $(BIN)/zkcli ./cmd/zkcli

# Standalone server on the embedded default: port 2181, data in ./data.
run: build
	./$(BIN)/zkserver

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Unit, integration and differential tests (Apache ZooKeeper 3.8 from Debian
# must be installed: .ci/run does it).
test: vet
	$(GO) test -count=1 -timeout 20m ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf $(BIN)
