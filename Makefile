# Developer conveniences over scripts/run and scripts/test, which are the
# Quick start's two commands (a fresh machine may not have make).
# PKGS narrows test, bench and fuzz: make test PKGS=./pg/... (scripts/test
# runs scripts/lint first only for the whole suite)

GO       ?= go
TIMEOUT  ?= 20m
FUZZTIME ?= 10s
PKGS     ?= ./...

.PHONY: run test bench fuzz vet

## run: scripts/run — serve the demo on 127.0.0.1:8888 with a managed Postgres
run:
	scripts/run

## test: scripts/test — every test, with the race detector
test:
	TEST_TIMEOUT=$(TIMEOUT) scripts/test $(filter-out ./...,$(PKGS))

## bench: every benchmark, with allocations
bench:
	$(GO) test -run='^$$' -bench=. -benchmem $(PKGS)

## fuzz: each Fuzz target for FUZZTIME (go test fuzzes one target at a time)
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run='^$$' -fuzz="^$$f\$$" -fuzztime=$(FUZZTIME) $$pkg; \
	  done; \
	done

## vet: scripts/lint — gofmt, go vet (host and GOOS=js) and staticcheck
vet:
	scripts/lint
