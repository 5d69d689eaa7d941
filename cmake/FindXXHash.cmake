# FindXXHash
# ----------
#
# Finds xxHash (Debian libxxhash-dev: /usr/include/xxhash.h, libxxhash.so).
#
# Imported target: XXHash::xxhash
# Result variables: XXHash_FOUND, XXHash_VERSION, XXHash_INCLUDE_DIR, XXHash_LIBRARY.
# Hints: XXHash_ROOT.

include(FindPackageHandleStandardArgs)

find_path(XXHash_INCLUDE_DIR NAMES xxhash.h DOC "Directory holding xxhash.h")
find_library(XXHash_LIBRARY NAMES xxhash DOC "Path to libxxhash")
mark_as_advanced(XXHash_INCLUDE_DIR XXHash_LIBRARY)

if(XXHash_INCLUDE_DIR AND EXISTS "${XXHash_INCLUDE_DIR}/xxhash.h")
  file(STRINGS "${XXHash_INCLUDE_DIR}/xxhash.h" _xxh_lines
       REGEX "^#define XXH_VERSION_(MAJOR|MINOR|RELEASE)[ \t]+[0-9]+")
  foreach(_part MAJOR MINOR RELEASE)
    string(REGEX MATCH "XXH_VERSION_${_part}[ \t]+([0-9]+)" _ "${_xxh_lines}")
    set(_xxh_${_part} "${CMAKE_MATCH_1}")
  endforeach()
  if(NOT _xxh_MAJOR STREQUAL "" AND NOT _xxh_MINOR STREQUAL "" AND NOT _xxh_RELEASE STREQUAL "")
    set(XXHash_VERSION "${_xxh_MAJOR}.${_xxh_MINOR}.${_xxh_RELEASE}")
  endif()
  unset(_xxh_lines)
  unset(_xxh_MAJOR)
  unset(_xxh_MINOR)
  unset(_xxh_RELEASE)
  unset(_part)
endif()

find_package_handle_standard_args(XXHash
  REQUIRED_VARS XXHash_LIBRARY XXHash_INCLUDE_DIR
  VERSION_VAR XXHash_VERSION
  HANDLE_VERSION_RANGE)

if(XXHash_FOUND)
  set(XXHash_INCLUDE_DIRS "${XXHash_INCLUDE_DIR}")
  set(XXHash_LIBRARIES "${XXHash_LIBRARY}")
  if(NOT TARGET XXHash::xxhash)
    add_library(XXHash::xxhash UNKNOWN IMPORTED)
    set_target_properties(XXHash::xxhash PROPERTIES
      IMPORTED_LOCATION "${XXHash_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${XXHash_INCLUDE_DIR}")
  endif()
endif()
