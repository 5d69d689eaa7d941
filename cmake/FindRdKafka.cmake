# FindRdKafka
# -----------
#
# Finds librdkafka and its C++ binding (Debian librdkafka-dev: /usr/include/librdkafka/rdkafka.h,
# rdkafkacpp.h, librdkafka.so, librdkafka++.so).
#
# Imported targets:
#   RdKafka::rdkafka    the C library
#   RdKafka::rdkafka++  the C++ binding, depends on RdKafka::rdkafka
#
# Result variables: RdKafka_FOUND, RdKafka_VERSION, RdKafka_INCLUDE_DIR, RdKafka_LIBRARY,
# RdKafka_CPP_LIBRARY. Include as <librdkafka/rdkafkacpp.h>. Hints: RdKafka_ROOT.

include(FindPackageHandleStandardArgs)

find_path(RdKafka_INCLUDE_DIR NAMES librdkafka/rdkafka.h DOC "Directory holding librdkafka/")
find_library(RdKafka_LIBRARY NAMES rdkafka DOC "Path to librdkafka")
find_library(RdKafka_CPP_LIBRARY NAMES rdkafka++ DOC "Path to librdkafka++")
mark_as_advanced(RdKafka_INCLUDE_DIR RdKafka_LIBRARY RdKafka_CPP_LIBRARY)

if(RdKafka_INCLUDE_DIR AND EXISTS "${RdKafka_INCLUDE_DIR}/librdkafka/rdkafka.h")
  # RD_KAFKA_VERSION is 0xMMmmrrxx (major, minor, revision, pre-release).
  file(STRINGS "${RdKafka_INCLUDE_DIR}/librdkafka/rdkafka.h" _rdk_line
       REGEX "^#define RD_KAFKA_VERSION[ \t]+0x[0-9a-fA-F]+")
  if(_rdk_line MATCHES "0x([0-9a-fA-F][0-9a-fA-F])([0-9a-fA-F][0-9a-fA-F])([0-9a-fA-F][0-9a-fA-F])")
    math(EXPR _rdk_major "0x${CMAKE_MATCH_1}")
    math(EXPR _rdk_minor "0x${CMAKE_MATCH_2}")
    math(EXPR _rdk_patch "0x${CMAKE_MATCH_3}")
    set(RdKafka_VERSION "${_rdk_major}.${_rdk_minor}.${_rdk_patch}")
  endif()
  unset(_rdk_line)
  unset(_rdk_major)
  unset(_rdk_minor)
  unset(_rdk_patch)
endif()

find_package_handle_standard_args(RdKafka
  REQUIRED_VARS RdKafka_LIBRARY RdKafka_CPP_LIBRARY RdKafka_INCLUDE_DIR
  VERSION_VAR RdKafka_VERSION
  HANDLE_VERSION_RANGE)

if(RdKafka_FOUND)
  set(RdKafka_INCLUDE_DIRS "${RdKafka_INCLUDE_DIR}")
  set(RdKafka_LIBRARIES "${RdKafka_CPP_LIBRARY}" "${RdKafka_LIBRARY}")
  if(NOT TARGET RdKafka::rdkafka)
    add_library(RdKafka::rdkafka UNKNOWN IMPORTED)
    set_target_properties(RdKafka::rdkafka PROPERTIES
      IMPORTED_LOCATION "${RdKafka_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${RdKafka_INCLUDE_DIR}")
  endif()
  if(NOT TARGET RdKafka::rdkafka++)
    add_library(RdKafka::rdkafka++ UNKNOWN IMPORTED)
    set_target_properties(RdKafka::rdkafka++ PROPERTIES
      IMPORTED_LOCATION "${RdKafka_CPP_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${RdKafka_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES RdKafka::rdkafka)
  endif()
endif()
