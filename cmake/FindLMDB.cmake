# FindLMDB
# --------
#
# Finds LMDB (Debian liblmdb-dev: /usr/include/lmdb.h, liblmdb.so).
#
# Imported target: LMDB::lmdb
# Result variables: LMDB_FOUND, LMDB_VERSION, LMDB_INCLUDE_DIR, LMDB_LIBRARY.
# Hints: LMDB_ROOT.

include(FindPackageHandleStandardArgs)

find_path(LMDB_INCLUDE_DIR NAMES lmdb.h DOC "Directory holding lmdb.h")
find_library(LMDB_LIBRARY NAMES lmdb DOC "Path to liblmdb")
mark_as_advanced(LMDB_INCLUDE_DIR LMDB_LIBRARY)

if(LMDB_INCLUDE_DIR AND EXISTS "${LMDB_INCLUDE_DIR}/lmdb.h")
  file(STRINGS "${LMDB_INCLUDE_DIR}/lmdb.h" _lmdb_lines
       REGEX "^#define MDB_VERSION_(MAJOR|MINOR|PATCH)[ \t]+[0-9]+")
  foreach(_part MAJOR MINOR PATCH)
    string(REGEX MATCH "MDB_VERSION_${_part}[ \t]+([0-9]+)" _ "${_lmdb_lines}")
    set(_lmdb_${_part} "${CMAKE_MATCH_1}")
  endforeach()
  if(NOT _lmdb_MAJOR STREQUAL "" AND NOT _lmdb_MINOR STREQUAL "" AND NOT _lmdb_PATCH STREQUAL "")
    set(LMDB_VERSION "${_lmdb_MAJOR}.${_lmdb_MINOR}.${_lmdb_PATCH}")
  endif()
  unset(_lmdb_lines)
  unset(_lmdb_MAJOR)
  unset(_lmdb_MINOR)
  unset(_lmdb_PATCH)
  unset(_part)
endif()

find_package_handle_standard_args(LMDB
  REQUIRED_VARS LMDB_LIBRARY LMDB_INCLUDE_DIR
  VERSION_VAR LMDB_VERSION
  HANDLE_VERSION_RANGE)

if(LMDB_FOUND)
  set(LMDB_INCLUDE_DIRS "${LMDB_INCLUDE_DIR}")
  set(LMDB_LIBRARIES "${LMDB_LIBRARY}")
  if(NOT TARGET LMDB::lmdb)
    add_library(LMDB::lmdb UNKNOWN IMPORTED)
    set_target_properties(LMDB::lmdb PROPERTIES
      IMPORTED_LOCATION "${LMDB_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${LMDB_INCLUDE_DIR}")
  endif()
endif()
