# X402PROXY_FUZZ=ON (tests/fuzz, `make fuzz`): libFuzzer is clang's, so the option needs clang.
# Every target of the tree is compiled with AddressSanitizer, UndefinedBehaviorSanitizer and the
# coverage instrumentation libFuzzer steers by (-fsanitize=fuzzer-no-link); only the fuzz
# executables link libFuzzer's main (-fsanitize=fuzzer, tests/fuzz/CMakeLists.txt). A UBSan finding
# aborts (no recovery), so the fuzzer records it like a crash.
if(NOT X402PROXY_FUZZ)
  return()
endif()
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "X402PROXY_FUZZ needs clang (libFuzzer), e.g. -DCMAKE_CXX_COMPILER=clang++-14; "
                      "got ${CMAKE_CXX_COMPILER_ID}")
endif()
# UBSan's `function` check is left out: clang 14 cannot emit its prologue data for split coroutines
# ("error: Cannot represent a difference across sections", llvm-project issue 49689), so
# net/http_client.cpp and the other coroutine sources would not compile.
add_compile_options(-fsanitize=address,undefined -fno-sanitize=function -fsanitize=fuzzer-no-link
                    -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
add_link_options(-fsanitize=address,undefined)
