# The README's two commands. Everything else is CMake.
BUILD ?= build
JOBS ?= $(shell nproc)

# `make fuzz`: the libFuzzer targets of tests/fuzz, built with clang and the sanitizers in their own
# build directory, each run for FUZZ_SECONDS from a scratch copy of its checked-in seeds.
FUZZ_SECONDS ?= 600
BUILD_FUZZ ?= build-fuzz

.PHONY: deps build test demo clean format fuzz

deps:
	./deploy/install-deps.sh
	./tests/peers/install.sh

build: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: build
	./examples/demo.sh $(BUILD) $(DEMO_ARGS)

fuzz: deps
	./deploy/install-deps.sh --fuzz
	cmake -S . -B $(BUILD_FUZZ) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_COMPILER=clang++-14 -DX402PROXY_FUZZ=ON
	cmake --build $(BUILD_FUZZ) -j $(JOBS) --target x402proxy_fuzz
	./tests/fuzz/run.sh $(BUILD_FUZZ) $(FUZZ_SECONDS)

format:
	git ls-files '*.cpp' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD)
