# The README's two commands. Everything else is CMake.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: deps build test demo clean format

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

format:
	git ls-files '*.cpp' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD)
