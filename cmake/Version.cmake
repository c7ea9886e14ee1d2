# Version and git SHA in a configured header: --version, SHOW POOL_VERSION and build_info use it.
execute_process(
  COMMAND git rev-parse --short=12 HEAD
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
  OUTPUT_VARIABLE PGR_GIT_SHA OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT PGR_GIT_SHA)
  set(PGR_GIT_SHA "unknown")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/version.hpp.in
               ${PROJECT_BINARY_DIR}/generated/pgrouter_version.hpp @ONLY)
