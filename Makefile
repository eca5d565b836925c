# Thin wrapper: the scripts hold the logic, so CI and developers run the same steps.
.PHONY: all build run test bench package clean

all: build

build:
	./scripts/deps.sh build

run:
	./scripts/run-server

test:
	./scripts/run-tests

bench:
	./bench/rpc/run.sh

package:
	./scripts/package

clean:
	rm -rf build build-pkg dist
