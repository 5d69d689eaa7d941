// The one Catch2 main of the sluice_tests executable; every tests/*/*_test.cpp links into it.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  // The Kafka brokers the tests start (tools/kafka-broker) stop once this process is gone, also
  // when a ctest timeout killed it.
  setenv("SLUICE_KAFKA_OWNER_PID", std::to_string(getpid()).c_str(), 1);
  return Catch::Session().run(argc, argv);
}
