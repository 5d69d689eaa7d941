// An instance reading std::string cannot be wired as the downstream of a stream of int:
// typed mailboxes turn a mis-wired channel into a compile error.
// expect: Cannot assign incompatible handle
#include "sluice/all.hpp"

int main() {
  sluice::host_actor<std::string, sluice::no_output> reads_strings;
  sluice::input_actor<int> downstream_of_ints = reads_strings;
  (void)downstream_of_ints;
}
