# sipcx: the two commands are `make demo` and `make test`; the rest wraps CMake.
#   make demo          install build deps, build, run the demo flow
#   make test          install test deps, build with ASan+UBSan and -Werror, run every test
#   make clang         build with clang (-Werror, libFuzzer targets) and replay the fuzz corpora
#   make valgrind      build without sanitizers and run the unit tests under valgrind memcheck
#   make bench         build optimised and run the benchmarks (bench/README.md)
#   make fuzz          run each libFuzzer target for FUZZ_SECONDS (default 60)
#   make format-check  clang-format --dry-run on every C file
#   make format        rewrite C files with clang-format
#   make install       install to PREFIX (default /usr/local)
PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 60
CMAKE ?= cmake

.PHONY: all demo test clang valgrind bench fuzz format-check format install clean release

all: release

release:
	@scripts/deps.sh build
	$(CMAKE) -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DSIPCX_BUILD_TESTS=OFF >/dev/null
	$(CMAKE) --build build/release -j $(JOBS)

demo: release
	@scripts/demo.sh build/release

test:
	@scripts/deps.sh test
	$(CMAKE) -S . -B build/test -DCMAKE_BUILD_TYPE=Debug -DSIPCX_WERROR=ON \
		-DSIPCX_SANITIZE="address;undefined" >/dev/null
	$(CMAKE) --build build/test -j $(JOBS)
	cd build/test && ctest --output-on-failure -j $(JOBS)

clang:
	@scripts/deps.sh test
	CC=clang $(CMAKE) -S . -B build/clang -DCMAKE_BUILD_TYPE=Debug -DSIPCX_WERROR=ON \
		-DSIPCX_SANITIZE="address;undefined" -DSIPCX_BUILD_FUZZ=ON >/dev/null
	$(CMAKE) --build build/clang -j $(JOBS)
	cd build/clang && ctest --output-on-failure -j $(JOBS) -L fuzz

valgrind:
	@scripts/deps.sh test
	$(CMAKE) -S . -B build/valgrind -DCMAKE_BUILD_TYPE=Debug -DSIPCX_WERROR=ON \
		-DSIPCX_BUILD_BENCH=OFF >/dev/null
	$(CMAKE) --build build/valgrind -j $(JOBS)
	cd build/valgrind && ctest --output-on-failure -j $(JOBS) -L valgrind

bench:
	@scripts/deps.sh bench
	$(CMAKE) -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DSIPCX_BUILD_TESTS=OFF >/dev/null
	$(CMAKE) --build build/bench -j $(JOBS)
	@scripts/bench.sh build/bench

fuzz:
	@scripts/deps.sh test
	CC=clang $(CMAKE) -S . -B build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DSIPCX_SANITIZE="address;undefined" -DSIPCX_BUILD_FUZZ=ON >/dev/null
	$(CMAKE) --build build/fuzz -j $(JOBS)
	@for f in build/fuzz/fuzz/*_fuzzer; do \
		name=$$(basename $$f _fuzzer); short=$${name#fuzz_}; \
		mkdir -p build/fuzz/corpus/$$short; \
		echo "== $$name ($(FUZZ_SECONDS) s)"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			build/fuzz/corpus/$$short fuzz/corpus/$$short || exit 1; \
	done

format-check:
	@files=$$(git ls-files '*.c' '*.h'); \
	clang-format --dry-run --Werror $$files && echo "format-check: $$(echo $$files | wc -w) files clean"

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

install: release
	$(CMAKE) --install build/release --prefix $(PREFIX)

clean:
	rm -rf build
