# FindCAF
# -------
#
# Finds the C++ Actor Framework (CAF 0.17) as packaged by Debian's libcaf-dev, which ships headers
# and shared libraries but no CMake package configuration.
#
# Components: core, io, openssl. All three are always searched for and get an imported target when
# found; core is always required. io and openssl are optional unless named: find_package(CAF
# COMPONENTS io) fails without libcaf_io, find_package(CAF OPTIONAL_COMPONENTS io) and a plain
# find_package(CAF) only set CAF_io_FOUND. openssl implies io, io implies core.
#
# Imported targets:
#   CAF::core     libcaf_core (+ Threads::Threads)
#   CAF::io       libcaf_io, depends on CAF::core
#   CAF::openssl  libcaf_openssl, depends on CAF::io (+ OpenSSL::SSL when OpenSSL is found, because
#                 caf/openssl headers include <openssl/...>)
#
# Result variables: CAF_FOUND, CAF_VERSION, CAF_INCLUDE_DIR, CAF_<c>_FOUND, CAF_<c>_LIBRARY.
# Hints: CAF_ROOT (standard <Package>_ROOT search prefix).

include(FindPackageHandleStandardArgs)

find_path(CAF_INCLUDE_DIR NAMES caf/config.hpp caf/all.hpp
          DOC "Directory holding caf/all.hpp")

if(CAF_INCLUDE_DIR AND EXISTS "${CAF_INCLUDE_DIR}/caf/config.hpp")
  file(STRINGS "${CAF_INCLUDE_DIR}/caf/config.hpp" _caf_version_line
       REGEX "^#define CAF_VERSION [0-9]+")
  if(_caf_version_line MATCHES "CAF_VERSION ([0-9]+)")
    math(EXPR _caf_major "${CMAKE_MATCH_1} / 10000")
    math(EXPR _caf_minor "(${CMAKE_MATCH_1} / 100) % 100")
    math(EXPR _caf_patch "${CMAKE_MATCH_1} % 100")
    set(CAF_VERSION "${_caf_major}.${_caf_minor}.${_caf_patch}")
  endif()
  unset(_caf_version_line)
  unset(_caf_major)
  unset(_caf_minor)
  unset(_caf_patch)
endif()

foreach(_c IN LISTS CAF_FIND_COMPONENTS)
  if(NOT _c MATCHES "^(core|io|openssl)$")
    message(FATAL_ERROR "FindCAF: unknown component '${_c}' (known: core io openssl)")
  endif()
endforeach()
# A required openssl needs a required io.
if(CAF_FIND_REQUIRED_openssl)
  set(CAF_FIND_REQUIRED_io TRUE)
  if(NOT io IN_LIST CAF_FIND_COMPONENTS)
    list(APPEND CAF_FIND_COMPONENTS io)
  endif()
endif()
set(_caf_components core io openssl)

foreach(_c IN LISTS _caf_components)
  find_library(CAF_${_c}_LIBRARY NAMES caf_${_c} DOC "Path to libcaf_${_c}")
  mark_as_advanced(CAF_${_c}_LIBRARY)
  if(CAF_INCLUDE_DIR AND CAF_${_c}_LIBRARY)
    set(CAF_${_c}_FOUND TRUE)
  else()
    set(CAF_${_c}_FOUND FALSE)
  endif()
endforeach()
if(NOT CAF_io_FOUND)
  set(CAF_openssl_FOUND FALSE)
endif()
mark_as_advanced(CAF_INCLUDE_DIR)

find_package_handle_standard_args(CAF
  REQUIRED_VARS CAF_core_LIBRARY CAF_INCLUDE_DIR
  VERSION_VAR CAF_VERSION
  HANDLE_VERSION_RANGE
  HANDLE_COMPONENTS)

if(CAF_FOUND)
  set(CAF_INCLUDE_DIRS "${CAF_INCLUDE_DIR}")
  set(CAF_LIBRARIES)

  if(NOT TARGET Threads::Threads)
    set(THREADS_PREFER_PTHREAD_FLAG ON)
    find_package(Threads REQUIRED)
  endif()

  if(NOT TARGET CAF::core)
    add_library(CAF::core UNKNOWN IMPORTED)
    set_target_properties(CAF::core PROPERTIES
      IMPORTED_LOCATION "${CAF_core_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES Threads::Threads)
  endif()
  list(APPEND CAF_LIBRARIES "${CAF_core_LIBRARY}")

  if(CAF_io_FOUND AND NOT TARGET CAF::io)
    add_library(CAF::io UNKNOWN IMPORTED)
    set_target_properties(CAF::io PROPERTIES
      IMPORTED_LOCATION "${CAF_io_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES CAF::core)
  endif()
  if(CAF_io_FOUND)
    list(APPEND CAF_LIBRARIES "${CAF_io_LIBRARY}")
  endif()

  if(CAF_openssl_FOUND AND NOT TARGET CAF::openssl)
    add_library(CAF::openssl UNKNOWN IMPORTED)
    set(_caf_openssl_deps CAF::io)
    find_package(OpenSSL QUIET)
    if(TARGET OpenSSL::SSL)
      list(APPEND _caf_openssl_deps OpenSSL::SSL)
    endif()
    set_target_properties(CAF::openssl PROPERTIES
      IMPORTED_LOCATION "${CAF_openssl_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES "${_caf_openssl_deps}")
    unset(_caf_openssl_deps)
  endif()
  if(CAF_openssl_FOUND)
    list(APPEND CAF_LIBRARIES "${CAF_openssl_LIBRARY}")
  endif()
endif()

unset(_caf_components)
unset(_c)
