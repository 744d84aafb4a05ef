# fuzz.cmake -- the dashboard's libFuzzer target (tests/fuzz/fuzz_server.c), built with clang
# whatever compiler builds the rest, and run briefly by ctest (label "fuzz").
# Longer runs by hand: see docs/fuzzing.md. Included by the top-level server section.
find_program(LOUPE_CLANG NAMES clang clang-14 clang-15 clang-16)
if(NOT LOUPE_CLANG)
  message(STATUS "clang not found: the dashboard's fuzz target is not built")
  return()
endif()
set(src ${CMAKE_SOURCE_DIR})
file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/tests/fuzz)
set(fuzz_sources
    ${src}/tests/fuzz/fuzz_server.c
    ${src}/src/server/router.c ${src}/src/server/security.c ${src}/src/server/extras.c
    ${src}/src/server/jsonw.c ${src}/src/server/agg.c ${src}/src/core/trial_rec.c
    ${src}/src/util/buf.c ${src}/src/util/pyjson.c ${src}/third_party/yyjson/yyjson.c)
set(fuzz_bin ${CMAKE_BINARY_DIR}/tests/fuzz/fuzz_server)
add_custom_command(
  OUTPUT ${fuzz_bin}
  COMMAND ${LOUPE_CLANG} -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined
          -fno-sanitize-recover=undefined -I${src}/include -I${src}/src -I${src}/third_party/yyjson
          ${fuzz_sources} -lm -o ${fuzz_bin}
  DEPENDS ${fuzz_sources} ${src}/src/server/router.h ${src}/src/server/security.h ${src}/src/server/extras.h
          ${src}/src/server/jsonw.h ${src}/src/server/agg.h
  COMMENT "Building the dashboard fuzz target with clang"
  VERBATIM)
add_custom_target(fuzz_server ALL DEPENDS ${fuzz_bin})
file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/tests/fuzz/corpus)
add_test(NAME test_server_fuzz
         COMMAND ${fuzz_bin} -runs=20000 -seed=1 -max_len=4096 ${CMAKE_BINARY_DIR}/tests/fuzz/corpus
                 ${src}/tests/fuzz/corpus)
set_tests_properties(test_server_fuzz PROPERTIES TIMEOUT 300 LABELS fuzz)
