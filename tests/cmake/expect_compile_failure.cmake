# Compiles SOURCE (syntax only) and succeeds only if the compiler rejects it with a real error.
#
#   cmake -DCXX_COMPILER=... -DSOURCE=... [-DINCLUDE_DIRS=a|b] [-DDEFINITIONS=X|Y=1]
#         -P expect_compile_failure.cmake
#
# A "fatal error" (a header not found) means the check itself is broken, not that the misuse was
# caught, so it fails the test as loudly as a successful compile does.

foreach(_var CXX_COMPILER SOURCE)
  if(NOT DEFINED ${_var} OR "${${_var}}" STREQUAL "")
    message(FATAL_ERROR "expect_compile_failure: ${_var} is not set")
  endif()
endforeach()

set(_args -std=c++20 -fsyntax-only)
if(DEFINED INCLUDE_DIRS AND NOT INCLUDE_DIRS STREQUAL "")
  string(REPLACE "|" ";" _dirs "${INCLUDE_DIRS}")
  foreach(_dir IN LISTS _dirs)
    if(NOT _dir STREQUAL "")
      list(APPEND _args "-I${_dir}")
    endif()
  endforeach()
endif()
if(DEFINED DEFINITIONS AND NOT DEFINITIONS STREQUAL "")
  string(REPLACE "|" ";" _defs "${DEFINITIONS}")
  foreach(_def IN LISTS _defs)
    if(NOT _def STREQUAL "")
      list(APPEND _args "-D${_def}")
    endif()
  endforeach()
endif()

execute_process(
  COMMAND "${CXX_COMPILER}" ${_args} "${SOURCE}"
  RESULT_VARIABLE _result
  OUTPUT_VARIABLE _out
  ERROR_VARIABLE _out)

if(_result EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but it must be rejected at compile time")
endif()
if(_out MATCHES "fatal error:")
  message(FATAL_ERROR "${SOURCE} could not be compiled at all (not a misuse error):\n${_out}")
endif()
if(NOT _out MATCHES "error:")
  message(FATAL_ERROR "compiler failed on ${SOURCE} without an error message "
                      "(exit ${_result}):\n${_out}")
endif()

# The source names the diagnostic it must get in a line `// expect: <text>`: the rejection must
# come from the check meant to fire, not from some unrelated error.
file(STRINGS "${SOURCE}" _expect_lines REGEX "^// expect: ")
if(NOT _expect_lines)
  message(FATAL_ERROR "${SOURCE} has no `// expect: <text>` line naming the error it must get")
endif()
foreach(_line IN LISTS _expect_lines)
  string(REGEX REPLACE "^// expect: " "" _expected "${_line}")
  string(FIND "${_out}" "${_expected}" _at)
  if(_at EQUAL -1)
    message(FATAL_ERROR "${SOURCE} was rejected, but not with \"${_expected}\":\n${_out}")
  endif()
endforeach()

# Show the first diagnostic, so a log tells which check fired.
string(REGEX MATCH "[^\n]*error:[^\n]*" _first "${_out}")
message(STATUS "rejected as expected: ${_first}")
