# Installs a Sluice build tree into a scratch prefix, then configures, builds and runs the consumer
# project against it. Any failing step fails the test.
#
#   cmake -DBUILD_DIR=<sluice build> -DWORK_DIR=<scratch dir> -DCONSUMER_SOURCE_DIR=<consumer>
#         [-DCONFIG=Debug] [-DGENERATOR=Ninja] [-DMAKE_PROGRAM=...] [-DCXX_COMPILER=...]
#         [-DCXX_FLAGS=...] [-DEXE_LINKER_FLAGS=...] -P check_consumer.cmake

foreach(_var BUILD_DIR WORK_DIR CONSUMER_SOURCE_DIR)
  if(NOT DEFINED ${_var} OR "${${_var}}" STREQUAL "")
    message(FATAL_ERROR "check_consumer: ${_var} is not set")
  endif()
endforeach()

set(_prefix "${WORK_DIR}/prefix")
set(_consumer_build "${WORK_DIR}/consumer-build")

# Start from nothing, so a stale install or cache cannot hide a broken package.
file(REMOVE_RECURSE "${_prefix}" "${_consumer_build}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE _result OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
  if(NOT _result EQUAL 0)
    message(FATAL_ERROR "${what} failed (exit ${_result}):\n${_out}")
  endif()
  message(STATUS "${what}: ok")
endfunction()

set(_config_args "")
if(DEFINED CONFIG AND NOT CONFIG STREQUAL "")
  set(_config_args --config "${CONFIG}")
endif()

run_step("install the build tree into ${_prefix}"
  "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${_prefix}" ${_config_args})

if(NOT EXISTS "${_prefix}/include/sluice/all.hpp")
  message(FATAL_ERROR "the install has no include/sluice/all.hpp")
endif()
file(GLOB_RECURSE _configs "${_prefix}/*/SluiceConfig.cmake")
if(NOT _configs)
  message(FATAL_ERROR "the install has no SluiceConfig.cmake")
endif()

set(_configure "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE_DIR}" -B "${_consumer_build}"
    "-DCMAKE_PREFIX_PATH=${_prefix}"
    # Only the scratch install may satisfy find_package(Sluice).
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
    -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
if(DEFINED GENERATOR AND NOT GENERATOR STREQUAL "")
  list(APPEND _configure -G "${GENERATOR}")
endif()
if(DEFINED MAKE_PROGRAM AND NOT MAKE_PROGRAM STREQUAL "")
  list(APPEND _configure "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(DEFINED CXX_COMPILER AND NOT CXX_COMPILER STREQUAL "")
  list(APPEND _configure "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
if(DEFINED CONFIG AND NOT CONFIG STREQUAL "")
  list(APPEND _configure "-DCMAKE_BUILD_TYPE=${CONFIG}")
endif()
# Sanitizer builds put their flags here; the consumer must match them to link the library.
list(APPEND _configure "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${EXE_LINKER_FLAGS}")

run_step("configure the consumer" ${_configure})

# The consumer must have found this install, not some other Sluice on the machine.
file(STRINGS "${_consumer_build}/CMakeCache.txt" _sluice_dir REGEX "^Sluice_DIR:")
string(REGEX REPLACE "^Sluice_DIR:[A-Z]+=" "" _sluice_dir "${_sluice_dir}")
file(REAL_PATH "${_prefix}" _real_prefix)
if(EXISTS "${_sluice_dir}")
  file(REAL_PATH "${_sluice_dir}" _sluice_dir)
endif()
string(FIND "${_sluice_dir}" "${_real_prefix}/" _at)
if(NOT _at EQUAL 0)
  message(FATAL_ERROR "the consumer found Sluice at '${_sluice_dir}', not under ${_prefix}")
endif()

run_step("build the consumer" "${CMAKE_COMMAND}" --build "${_consumer_build}" ${_config_args})

set(_exe "${_consumer_build}/sluice_consumer")
if(NOT EXISTS "${_exe}")
  file(GLOB_RECURSE _exe "${_consumer_build}/sluice_consumer" "${_consumer_build}/sluice_consumer.exe")
  list(GET _exe 0 _exe)
endif()
run_step("run the consumer" "${_exe}")

# Passed: remove the scratch install and consumer build; a failure leaves them for inspection.
file(REMOVE_RECURSE "${_prefix}" "${_consumer_build}")
