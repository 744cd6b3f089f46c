# Shared compile settings for our own targets.

# Warnings are errors on our code (STYLE rule 11); third-party headers are SYSTEM includes.
add_library(x402proxy_options INTERFACE)
# Two GCC 12 false positives are off: -Wmismatched-new-delete misreads Asio's awaitable frame
# allocator (aligned_alloc paired with its own operator delete) at -O2, and -Wrestrict misreads
# std::string concatenation at -O3 (GCC bug 105329).
# clang (the fuzzing build) has neither false positive and does not know -Wrestrict.
target_compile_options(x402proxy_options INTERFACE -Wall -Wextra -Werror -Wno-missing-field-initializers
                                                   $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete -Wno-restrict>)
target_include_directories(x402proxy_options INTERFACE ${PROJECT_SOURCE_DIR})

# Asio and Beast are compiled once (asio_beast_impl.cpp) instead of in every translation unit:
# on two cores this saves about a quarter of each Beast TU's build time.
add_library(x402proxy_asio STATIC ${PROJECT_SOURCE_DIR}/cmake/asio_beast_impl.cpp)
target_compile_definitions(x402proxy_asio PUBLIC BOOST_ASIO_SEPARATE_COMPILATION
                                                 BOOST_BEAST_SEPARATE_COMPILATION
                                                 BOOST_ASIO_NO_DEPRECATED)
target_link_libraries(x402proxy_asio PUBLIC Boost::headers OpenSSL::SSL OpenSSL::Crypto Threads::Threads)

# Adds a Catch2 test executable from the given sources, linked with the shared Catch main.
function(x402proxy_add_test name)
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE x402proxy_catch_main x402proxy_options)
  # --warn NoTests: a name ctest cannot pass through to Catch (a ";" splits it) fails instead
  # of running nothing and passing.
  catch_discover_tests(${name} TEST_PREFIX "${name}: " EXTRA_ARGS --warn NoTests PROPERTIES TIMEOUT 120
                       WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endfunction()
