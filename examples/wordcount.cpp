// Counts the words of a text file with a keyed count and prints the N most frequent ones.
//
// Usage: wordcount [--parallelism N] [FILE] [TOP]
//   FILE  the text to read (default examples/data/sample.txt, relative to the working directory)
//   TOP   how many words to print (default 10)
//
// The pipeline runs in parallel; the top-N is computed after `run` returns from the collected
// (word, count) pairs, so the output is the same at every parallelism.

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sluice/all.hpp"

namespace {

struct options {
  std::string path = "examples/data/sample.txt";
  size_t top = 10;
  uint32_t parallelism = 1;
};

std::optional<uint64_t> parse_positive(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value == 0)
    return std::nullopt;
  return value;
}

/// Parses the command line; prints a message and returns nothing on bad input.
std::optional<options> parse_options(int argc, char** argv) {
  options opts;
  std::vector<std::string_view> positional;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::optional<std::string_view> value;
    if (arg == "--parallelism" || arg == "-p") {
      if (i + 1 == argc) {
        std::cerr << "wordcount: " << arg << " needs a value\n";
        return std::nullopt;
      }
      value = argv[++i];
    } else if (arg.starts_with("--parallelism=")) {
      value = arg.substr(arg.find('=') + 1);
    } else if (arg == "--help" || arg == "-h") {
      std::cout << "usage: wordcount [--parallelism N] [FILE] [TOP]\n";
      std::exit(0);
    } else {
      positional.push_back(arg);
      continue;
    }
    auto n = parse_positive(*value);
    if (!n || *n > 1024) {
      std::cerr << "wordcount: parallelism must be a number from 1 to 1024, not '" << *value
                << "'\n";
      return std::nullopt;
    }
    opts.parallelism = static_cast<uint32_t>(*n);
  }
  if (positional.size() > 2) {
    std::cerr << "usage: wordcount [--parallelism N] [FILE] [TOP]\n";
    return std::nullopt;
  }
  if (!positional.empty())
    opts.path = positional[0];
  if (positional.size() == 2) {
    auto n = parse_positive(positional[1]);
    if (!n) {
      std::cerr << "wordcount: TOP must be a positive number, not '" << positional[1] << "'\n";
      return std::nullopt;
    }
    opts.top = static_cast<size_t>(*n);
  }
  return opts;
}

/// Splits a line into lower-case words made of ASCII letters only.
void split_words(const std::string& line, sluice::emitter<std::string>& out) {
  std::string word;
  for (unsigned char c : line) {
    if (std::isalpha(c)) {
      word += static_cast<char>(std::tolower(c));
    } else if (!word.empty()) {
      out(std::move(word));
      word.clear();
    }
  }
  if (!word.empty())
    out(std::move(word));
}

} // namespace

int main(int argc, char** argv) {
  auto opts = parse_options(argc, argv);
  if (!opts)
    return 2;

  using word_count = std::pair<std::string, int64_t>;
  std::vector<word_count> counts;

  sluice::pipeline p{"wordcount"};
  p.source(sluice::text_file(opts->path))
    .parallelism(opts->parallelism)
    .name("read")
    .flat_map(
      [](const std::string& line, sluice::emitter<std::string>& out) { split_words(line, out); })
    .parallelism(opts->parallelism)
    .name("split")
    .key_by(std::identity{})
    .count()
    .parallelism(opts->parallelism)
    .name("count")
    .sink(sluice::collect(counts));

  sluice::runtime rt;
  if (auto err = rt.run(p)) {
    std::cerr << "wordcount: " << sluice::describe(err) << '\n';
    return 1;
  }

  // A bounded input runs in batch mode, where count() emits one final count per word; in
  // streaming mode it emits every update. Counts only grow, so the largest is the final one
  // either way, whichever sink instance and batch it arrived in.
  std::unordered_map<std::string, int64_t> final_counts;
  for (auto& [word, n] : counts) {
    auto& slot = final_counts[word];
    slot = std::max(slot, n);
  }
  std::vector<word_count> ranked(final_counts.begin(), final_counts.end());
  auto top = std::min(opts->top, ranked.size());
  // Ties are broken by the word, so the output does not depend on arrival order.
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(top), ranked.end(),
                    [](const word_count& a, const word_count& b) {
                      return a.second != b.second ? a.second > b.second : a.first < b.first;
                    });
  for (size_t i = 0; i < top; ++i)
    std::cout << ranked[i].second << ' ' << ranked[i].first << '\n';
  return 0;
}
