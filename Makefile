# A thin wrapper around CMake + Ninja. `make demo` and `make test` are the two
# Quick-start commands of README.md; both install what is missing first.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)

.PHONY: all deps build test test-asan test-release demo install clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) -j$(JOBS)

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLOUPE_SANITIZE=ON -DLOUPE_BENCH=OFF

test-release: build
	cd $(BUILD) && ctest -j$(JOBS) --output-on-failure

# The unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest -j$(JOBS) --output-on-failure -L unit

test: test-release test-asan

# The tutorial: the sunset generator and the dashboard together (`loupe demo`), data in
# $(BUILD)/demo; prints the URL to open, Ctrl-C stops. Options: make demo DEMO_ARGS="--port 9000".
demo: build
	@LOUPE=$(BUILD)/loupe DEMO_DIR=$(BUILD)/demo bash scripts/demo.sh

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
