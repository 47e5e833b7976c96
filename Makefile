# zkgo: a ZooKeeper-compatible coordination server.
GO ?= go
BIN := bin

.PHONY: build run test vet fmt clean fuzz release bench

build:
	$(GO) build -o $(BIN)/zkserver ./cmd/zkserver
	$(GO) build -o $(BIN)/zkcli ./cmd/zkcli
	$(GO) build -o $(BIN)/zkbench ./cmd/zkbench

# Standalone server on the embedded default: port 2181, data in ./data.
run: build
	./$(BIN)/zkserver

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Unit, integration and differential tests, and real clients' and
# applications' own suites against ours and Apache ZooKeeper 3.8 (README:
# "Clients and applications tested"). test/install-deps.sh installs the
# Debian packages they need when run as root, else names them;
# test/cclient/install.sh installs what the C client's cppunit suite and
# the ClickHouse test need and builds the suite from the npm package
# zookeeper@7.3.0. Both skip what is already done.
test: vet
	sh test/install-deps.sh
	bash test/cclient/install.sh
	$(GO) test -count=1 -timeout 20m ./...

# Only the real clients' and applications' suites (part of make test; about
# 6 minutes here): kazoo, go-zookeeper and its z-division fork, tooz,
# taskflow, Curator.
.PHONY: suites
suites:
	sh test/install-deps.sh
	$(GO) test -count=1 -timeout 20m -v -run '^(TestKazooSuite|TestKazooSuiteEnsemble|TestGoZookeeperSuite|TestZDivisionGoZookeeperSuite|TestToozSuite|TestTaskflowSuite|TestCuratorRecipes)$$' ./test/

# Benchmark against Apache ZooKeeper 3.8 (Debian: apt-get install zookeeper):
# 3-server ensembles of each, one after the other, same load, servers
# pinned to one CPU set and the load generator to another (-nopin: not),
# 10 s per workload with zkbench's own jute client and with go-zookeeper,
# a null server as the ceiling, scaling over 1-1000 connections, memory of
# 10,000 idle sessions, memory per znode and restart time with 1M znodes,
# leader failover; prints ours/apache and ours/null ratios and writes
# zkbench-report.{json,html} (about 45 minutes). Quick version (~2 s per
# workload, 20k znodes, 1,000 idle sessions): ./bin/zkbench -quick
# -zkserver bin/zkserver. CI runs a short version of every measurement
# against ours and the null server (TestShortRunOurs, TestShortRunNull in
# cmd/zkbench).
bench: build
	./$(BIN)/zkbench -million -zkserver $(BIN)/zkserver

# Every fuzz target for FUZZTIME each (CI runs a short version).
# FuzzLogDamage writes and syncs a log for every input, thousands of times
# slower than the others: FUZZTIME_SLOW bounds it instead (a count such as
# 1000x, or a duration; default FUZZTIME).
FUZZTIME ?= 1m
FUZZTIME_SLOW ?= $(FUZZTIME)
FUZZ_TARGETS := ./wire:FuzzRequest ./zab:FuzzUnmarshalMessage ./conf:FuzzLoad \
	./zab/storage:FuzzLogDamage ./znode:FuzzReadSnapshot ./znode:FuzzTxn ./znode:FuzzApacheTxn ./znode:FuzzApacheSnapshot
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; fn=$${t##*:}; ft=$(FUZZTIME); \
	  if [ "$$fn" = FuzzLogDamage ]; then ft=$(FUZZTIME_SLOW); fi; \
	  echo "fuzz $$pkg $$fn ($$ft)"; \
	  $(GO) test $$pkg -run '^$$' -fuzz "^$$fn\$$" -fuzztime $$ft; \
	done

# Static binaries for linux amd64 and arm64 in dist/ (see packaging/ for a
# systemd unit and a Dockerfile).
release:
	@set -e; for arch in amd64 arm64; do \
	  for cmd in zkserver zkcli; do \
	    CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -trimpath -ldflags "-s -w" \
	      -o dist/$$cmd-linux-$$arch ./cmd/$$cmd; \
	  done; \
	done; ls -l dist

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf $(BIN) dist

# Jepsen-style linearizability suite (test/jepsen): 3- and 5-server ensembles
# under a nemesis of kills, pauses, network partitions (symmetric, one-way,
# 2+3 splits, delays; through per-link TCP proxies), slow fsyncs and
# damaged storage (a killed server's log, snapshot or pebble files flipped,
# cut, zeroed or deleted, then restarted: it must repair itself;
# JEPSEN_STORAGE=0 turns this off), JEPSEN_DURATION each, seeded by
# JEPSEN_SEED (default: the time; every run logs its seed). Failing histories
# are saved as porcupine visualizations in JEPSEN_OUT (default: a temp dir).
JEPSEN_DURATION ?= 60s
JEPSEN_SEED ?=
.PHONY: jepsen
jepsen:
	JEPSEN_DURATION=$(JEPSEN_DURATION) JEPSEN_SEED=$(JEPSEN_SEED) \
	  $(GO) test -count=1 -v -timeout 60m -run '^TestJepsen' ./test/jepsen/
