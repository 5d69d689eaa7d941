# FindBoostJSON
# -------------
#
# Finds Boost.JSON 1.81+ (Debian libboost-json1.81-dev). Debian ships Boost's own CMake package
# (boost_json-config.cmake); use it when present, else fall back to searching for the header and
# library by hand.
#
# Imported target: Boost::json
# Result variables: BoostJSON_FOUND, BoostJSON_VERSION, BoostJSON_INCLUDE_DIR, BoostJSON_LIBRARY.
# Hints: BoostJSON_ROOT, Boost_ROOT.

include(FindPackageHandleStandardArgs)

set(_bj_min_version 1.81)
if(BoostJSON_FIND_VERSION)
  set(_bj_min_version "${BoostJSON_FIND_VERSION}")
endif()

if(NOT TARGET Boost::json)
  find_package(boost_json ${_bj_min_version} CONFIG QUIET)
endif()

if(TARGET Boost::json)
  if(boost_json_VERSION)
    set(BoostJSON_VERSION "${boost_json_VERSION}")
  endif()
  get_target_property(BoostJSON_INCLUDE_DIR Boost::json INTERFACE_INCLUDE_DIRECTORIES)
  set(BoostJSON_LIBRARY Boost::json)
  find_package_handle_standard_args(BoostJSON
    REQUIRED_VARS BoostJSON_LIBRARY BoostJSON_INCLUDE_DIR
    VERSION_VAR BoostJSON_VERSION
    HANDLE_VERSION_RANGE)
else()
  find_path(BoostJSON_INCLUDE_DIR NAMES boost/json.hpp DOC "Directory holding boost/json.hpp")
  find_library(BoostJSON_LIBRARY NAMES boost_json DOC "Path to libboost_json")
  mark_as_advanced(BoostJSON_INCLUDE_DIR BoostJSON_LIBRARY)

  if(BoostJSON_INCLUDE_DIR AND EXISTS "${BoostJSON_INCLUDE_DIR}/boost/version.hpp")
    # BOOST_VERSION is MMMmmmpp, e.g. 108100 for 1.81.0.
    file(STRINGS "${BoostJSON_INCLUDE_DIR}/boost/version.hpp" _bj_line
         REGEX "^#define BOOST_VERSION[ \t]+[0-9]+")
    if(_bj_line MATCHES "BOOST_VERSION[ \t]+([0-9]+)")
      math(EXPR _bj_major "${CMAKE_MATCH_1} / 100000")
      math(EXPR _bj_minor "(${CMAKE_MATCH_1} / 100) % 1000")
      math(EXPR _bj_patch "${CMAKE_MATCH_1} % 100")
      set(BoostJSON_VERSION "${_bj_major}.${_bj_minor}.${_bj_patch}")
    endif()
    unset(_bj_line)
    unset(_bj_major)
    unset(_bj_minor)
    unset(_bj_patch)
  endif()

  # Without a requested version, still refuse a Boost older than 1.81 (Boost.JSON's API settled
  # there); FPHSA checks only a version the caller asked for, so check the default floor here.
  set(_bj_reason "")
  if(NOT BoostJSON_FIND_VERSION AND BoostJSON_VERSION AND BoostJSON_VERSION VERSION_LESS _bj_min_version)
    set(_bj_reason "found Boost ${BoostJSON_VERSION}, need at least ${_bj_min_version}")
    set(BoostJSON_LIBRARY "BoostJSON_LIBRARY-NOTFOUND")
  endif()
  find_package_handle_standard_args(BoostJSON
    REQUIRED_VARS BoostJSON_LIBRARY BoostJSON_INCLUDE_DIR
    VERSION_VAR BoostJSON_VERSION
    HANDLE_VERSION_RANGE
    REASON_FAILURE_MESSAGE "${_bj_reason}")
  unset(_bj_reason)

  if(BoostJSON_FOUND AND NOT TARGET Boost::json)
    add_library(Boost::json UNKNOWN IMPORTED)
    set_target_properties(Boost::json PROPERTIES
      IMPORTED_LOCATION "${BoostJSON_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${BoostJSON_INCLUDE_DIR}"
      # Boost.JSON's compiled library is used as a shared library; tell the headers so.
      INTERFACE_COMPILE_DEFINITIONS BOOST_JSON_DYN_LINK)
  endif()
endif()

if(BoostJSON_FOUND)
  set(BoostJSON_INCLUDE_DIRS "${BoostJSON_INCLUDE_DIR}")
  set(BoostJSON_LIBRARIES Boost::json)
endif()
unset(_bj_min_version)
