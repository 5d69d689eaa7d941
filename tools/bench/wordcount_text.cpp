// Workload "wc_text": the word count of a real text file (--text FILE; tools/bench/make-corpus
// builds the 140 MB corpus of docs/benchmarks.md): text_file -> flat_map(tokenize) ->
// key_by(word) -> count (batch mode) -> sink, at parallelism 2 and 1; beside a bare loop that
// reads the same file line by line, tokenizes it the same way and counts in a
// std::unordered_map. The key function is std::identity, which hands the word itself to the
// keyed operators; sluice_p2_key_copy shows what a key function returning a copy costs.
//
// A word is a maximal run of ASCII letters, digits and '_', lower-cased (Flink's WordCount
// splits on \W+ the same way).

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "sluice/all.hpp"

#include "bench.hpp"
#include "word_count.hpp"

namespace bench {

namespace {

bool word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

/// Calls `fn(word)` for every word of `line`, lower-cased.
template <class F>
void for_each_word(std::string_view line, F&& fn) {
  size_t i = 0;
  const auto n = line.size();
  while (i < n) {
    while (i < n && !word_char(line[i]))
      ++i;
    auto start = i;
    while (i < n && word_char(line[i]))
      ++i;
    if (i > start) {
      std::string word{line.substr(start, i - start)};
      std::transform(word.begin(), word.end(), word.begin(), lower);
      fn(std::move(word));
    }
  }
}

/// Calls `fn(line)` for every line of the file at `path`, as the text_file source reads them.
template <class F>
void for_each_line(const std::string& path, F&& fn) {
  std::ifstream in{path, std::ios::binary};
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    fn(line);
  }
}

/// The words of the text: the records every variant counts (not timed).
uint64_t words_in(const std::string& path) {
  uint64_t words = 0;
  for_each_line(
    path, [&](const std::string& line) { for_each_word(line, [&](std::string&&) { ++words; }); });
  return words;
}

template <class KeyFn>
measurement run_sluice(const options& opt, uint32_t par, KeyFn key) {
  auto words = words_in(opt.text);
  sluice::runtime rt{runtime_config(opt)};
  sluice::pipeline p{"wordcount-text"};
  result_sink<word_count> sink;
  auto acc = sink.acc;
  p.source(sluice::text_file(opt.text))
    .parallelism(par)
    .flat_map([](const std::string& line, sluice::emitter<std::string>& out) {
      for_each_word(line, [&](std::string&& w) { out(std::move(w)); });
    })
    .parallelism(par)
    .key_by(key)
    .count()
    .parallelism(par)
    .sink(sink);
  return timed_run(rt, p, words, [&] { return acc->load(); });
}

measurement run_bare(const options& opt) {
  auto words = words_in(opt.text);
  return timed(words, [&] {
    std::unordered_map<std::string, int64_t> counts;
    for_each_line(opt.text, [&](const std::string& line) {
      for_each_word(line, [&](std::string&& w) { ++counts[std::move(w)]; });
    });
    uint64_t s = 0;
    for (const auto& [w, n] : counts)
      s += result_hash(w, n);
    return s;
  });
}

} // namespace

workload wordcount_text_workload() {
  return {
    "wc_text",
    "a real text file (--text) -> flat_map(tokenize) -> key_by(word) -> count (batch) -> sink",
    {
      {"sluice_p2", "Sluice, text_file/flat_map/count at parallelism 2", false,
       [](const options& opt) { return run_sluice(opt, 2, std::identity{}); }},
      {"sluice_p1", "Sluice, everything at parallelism 1", false,
       [](const options& opt) { return run_sluice(opt, 1, std::identity{}); }},
      {"sluice_p2_key_copy", "sluice_p2 with a key function that returns a copy of the word", false,
       [](const options& opt) {
         return run_sluice(opt, 2, [](const std::string& w) { return w; });
       }},
      {"bare_loop", "one thread: getline + tokenize + std::unordered_map", true, run_bare},
    },
    [](const options& opt) -> std::string {
      if (opt.text.empty())
        return "needs --text FILE, a real text (tools/bench/make-corpus builds the corpus)";
      if (!std::ifstream{opt.text})
        return "cannot read the text file '" + opt.text + "'";
      return {};
    }};
}

} // namespace bench
