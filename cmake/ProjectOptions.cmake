# Option targets every pgrouter target links PRIVATE: warnings (as errors) and sanitizers.

add_library(pgr_warnings INTERFACE)
target_compile_options(pgr_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror
  -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused
  -Woverloaded-virtual -Wconversion -Wsign-conversion
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 misreads a coroutine frame's class-specific operator new/delete pair (Asio's
  # awaitable_frame_base) as mismatched once optimisation inlines them: a compiler bug
  # that fires in any coroutine, not a finding about our code.
  target_compile_options(pgr_warnings INTERFACE -Wno-mismatched-new-delete)
endif()

add_library(pgr_sanitizers INTERFACE)
if(PGR_SANITIZE)
  target_compile_options(pgr_sanitizers INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(pgr_sanitizers INTERFACE -fsanitize=address,undefined)
endif()
# ThreadSanitizer: the threaded parts (workers, what main publishes to them, the shared
# counters and budgets, failover) under the integration tests that drive them (scripts/test).
if(PGR_TSAN)
  if(PGR_SANITIZE)
    message(FATAL_ERROR "PGR_TSAN and PGR_SANITIZE cannot be combined")
  endif()
  # Asio's fenced blocks (handler memory handed between threads of one io_context) use
  # atomic_thread_fence, which TSan does not model; each of our io_contexts runs on one thread
  # (concurrency hint 1), so they guard nothing here. GCC also refuses (-Wtsan) the fence in
  # the reference count of an any_executor whose target lives on the heap; ours (io_context
  # executors) fit in place, so that path never runs.
  target_compile_options(pgr_sanitizers INTERFACE -fsanitize=thread -fno-omit-frame-pointer -Wno-tsan)
  target_compile_definitions(pgr_sanitizers INTERFACE BOOST_ASIO_DISABLE_FENCED_BLOCK)
  target_link_options(pgr_sanitizers INTERFACE -fsanitize=thread)
endif()
# Fuzzing: every library a fuzzer links is instrumented for coverage (fuzzer-no-link) and
# checked by ASan+UBSan; the fuzzers themselves add -fsanitize=fuzzer (tests/fuzz).
if(PGR_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "PGR_FUZZ=ON needs clang (CC=clang CXX=clang++)")
  endif()
  target_compile_options(pgr_sanitizers INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
    -fno-omit-frame-pointer)
  target_link_options(pgr_sanitizers INTERFACE -fsanitize=address,undefined)
endif()

add_library(pgr_options INTERFACE)
target_link_libraries(pgr_options INTERFACE pgr_warnings pgr_sanitizers)
target_include_directories(pgr_options INTERFACE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/generated)

# Asio is compiled once, in support/asio_impl.cpp; every target that includes Asio needs this.
# No awaitable frame recycling: Asio's per-thread cache hands a freed frame to the next one of
# any smaller size, so an idle session's small, long-lived frames sat in blocks freed by large,
# short-lived ones (a 128-byte wait in a 736-byte block: ~1 KB per idle client). malloc's own
# per-thread cache serves those sizes as fast.
add_library(pgr_asio_config INTERFACE)
target_compile_definitions(pgr_asio_config INTERFACE
  BOOST_ASIO_SEPARATE_COMPILATION BOOST_ASIO_NO_DEPRECATED BOOST_ASIO_DISABLE_BOOST_COROUTINE
  BOOST_ASIO_DISABLE_AWAITABLE_FRAME_RECYCLING)
target_link_libraries(pgr_asio_config INTERFACE Boost::headers Threads::Threads)
