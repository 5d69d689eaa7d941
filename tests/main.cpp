// The one Catch2 main of the sluice_tests executable; every tests/*/*_test.cpp links into it.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
