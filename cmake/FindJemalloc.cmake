# FindJemalloc
# ------------
#
# Finds jemalloc (Debian libjemalloc-dev: /usr/include/jemalloc/jemalloc.h, libjemalloc.so), built
# without a symbol prefix, so that linking it replaces malloc and free in the whole program.
#
# Imported target: Jemalloc::jemalloc
# Result variables: Jemalloc_FOUND, Jemalloc_VERSION, Jemalloc_INCLUDE_DIR, Jemalloc_LIBRARY.
# Hints: Jemalloc_ROOT.

include(FindPackageHandleStandardArgs)

find_path(Jemalloc_INCLUDE_DIR NAMES jemalloc/jemalloc.h DOC "Directory holding jemalloc/jemalloc.h")
find_library(Jemalloc_LIBRARY NAMES jemalloc DOC "Path to libjemalloc")
mark_as_advanced(Jemalloc_INCLUDE_DIR Jemalloc_LIBRARY)

if(Jemalloc_INCLUDE_DIR AND EXISTS "${Jemalloc_INCLUDE_DIR}/jemalloc/jemalloc.h")
  file(STRINGS "${Jemalloc_INCLUDE_DIR}/jemalloc/jemalloc.h" _jemalloc_version
       REGEX "^#define JEMALLOC_VERSION \"[0-9]+\\.[0-9]+\\.[0-9]+")
  if(_jemalloc_version MATCHES "\"([0-9]+\\.[0-9]+\\.[0-9]+)")
    set(Jemalloc_VERSION "${CMAKE_MATCH_1}")
  endif()
  unset(_jemalloc_version)
endif()

find_package_handle_standard_args(Jemalloc
  REQUIRED_VARS Jemalloc_LIBRARY Jemalloc_INCLUDE_DIR
  VERSION_VAR Jemalloc_VERSION
  HANDLE_VERSION_RANGE)

if(Jemalloc_FOUND AND NOT TARGET Jemalloc::jemalloc)
  add_library(Jemalloc::jemalloc UNKNOWN IMPORTED)
  set_target_properties(Jemalloc::jemalloc PROPERTIES
    IMPORTED_LOCATION "${Jemalloc_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${Jemalloc_INCLUDE_DIR}")
endif()
