// Workload "wordcount": lines -> flat_map(tokenize) -> key_by(word) -> count (batch mode: one
// final count per word) -> sink, at parallelism 1 and 2; beside a bare loop that tokenizes the
// same lines and counts words in a std::unordered_map.
//
// The text is generated once per run, deterministically: 65536 distinct lines of 6 to 14 words
// from a 10000-word vocabulary with a skewed (Zipf-like) word frequency. Sources cycle through
// the lines by reference (`line_ref`), so the measured work is tokenizing and counting, not
// producing. (Not std::string_view: CAF 0.17 deems it serializable, but batch<std::string_view>
// then fails to compile in CAF's deserializer.)
//
// Workload "wc_state": the same text through the same pipeline in streaming mode, so the count
// stage updates its keyed state for every word and emits every updated count; with the state in
// memory (the reference), in LMDB, and in LMDB with a checkpoint every second.

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sluice/all.hpp"
#include "sluice/checkpoint_record.hpp"
#include "sluice/key_group.hpp"

#include "bench.hpp"
#include "word_count.hpp"

namespace bench {

namespace {

constexpr size_t corpus_lines = 65536;
constexpr size_t vocabulary = 10000;

struct corpus {
  std::vector<std::string> lines;
  std::vector<uint64_t> words_per_line;
  uint64_t words = 0; ///< words in all lines
};

std::shared_ptr<const corpus> make_corpus() {
  auto c = std::make_shared<corpus>();
  std::vector<std::string> vocab;
  vocab.reserve(vocabulary);
  for (size_t v = 0; v < vocabulary; ++v) {
    auto h = mix64(v + 0x5eed);
    auto len = 2 + h % 10;
    std::string w;
    for (size_t j = 0; j < len; ++j)
      w += static_cast<char>('a' + mix64(h + j) % 26);
    vocab.push_back(std::move(w));
  }
  c->lines.reserve(corpus_lines);
  for (size_t l = 0; l < corpus_lines; ++l) {
    auto h = mix64(l * 7919 + 1);
    auto n = 6 + h % 9;
    std::string line;
    for (size_t j = 0; j < n; ++j) {
      auto u = static_cast<double>(mix64(h + j + 1) >> 11) / 9007199254740992.0; // [0, 1)
      auto idx = static_cast<size_t>(u * u * u * vocabulary); // skewed towards small indices
      if (j > 0)
        line += ' ';
      line += vocab[idx];
    }
    c->lines.push_back(std::move(line));
    c->words_per_line.push_back(n);
    c->words += n;
  }
  return c;
}

/// A line of the corpus, by its index: the corpus outlives the run, and the index is what would
/// cross to another process.
struct line_ref {
  uint64_t index = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, line_ref& x) {
  return f(x.index);
}

/// Calls `fn(word)` for every space-separated word of `line`.
template <class F>
void for_each_word(std::string_view line, F&& fn) {
  size_t i = 0;
  const auto n = line.size();
  while (i < n) {
    while (i < n && line[i] == ' ')
      ++i;
    auto start = i;
    while (i < n && line[i] != ' ')
      ++i;
    if (i > start)
      fn(line.substr(start, i - start));
  }
}

/// Lines to read so that about `target` words are counted; returns the lines and exact words.
std::pair<uint64_t, uint64_t> plan(const corpus& c, uint64_t target) {
  uint64_t lines = 0;
  uint64_t words = 0;
  auto full_passes = target / c.words;
  lines = full_passes * c.lines.size();
  words = full_passes * c.words;
  for (size_t l = 0; words < target && l < c.lines.size(); ++l, ++lines)
    words += c.words_per_line[l];
  return {lines, words};
}

uint64_t target_words(const options& opt) {
  return sized(opt, 50'000'000, 1'000'000);
}

/// Counting fused into the tokenizer by hand: each instance counts the words of the lines it
/// reads in a local hash map and emits (word, partial count) at end of stream, so no word is
/// ever copied into a record. The built-in combiner of `count()` does the same one stage later,
/// after the words crossed a forward channel.
struct local_count {
  std::shared_ptr<const corpus> text;
  std::unordered_map<std::string, int64_t> counts;

  void process(const line_ref& line, sluice::context<word_count>&) {
    for_each_word(text->lines[line.index], [&](std::string_view w) { ++counts[std::string{w}]; });
  }

  void on_end(sluice::context<word_count>& ctx) {
    for (auto& [w, n] : counts)
      ctx.emit(word_count{w, n});
  }
};

/// The lines of the corpus, `lines` of them, as a generator at parallelism `par`.
auto lines_of(sluice::pipeline& p, uint64_t lines, uint32_t par) {
  return p
    .source(sluice::generate<line_ref>([](uint64_t i) { return line_ref{i % corpus_lines}; },
                                       {.count = lines}))
    .parallelism(par);
}

/// The words of those lines, tokenized by a flat_map at parallelism `par`.
auto words_of(sluice::pipeline& p, std::shared_ptr<const corpus> text, uint64_t lines,
              uint32_t par) {
  return lines_of(p, lines, par)
    .flat_map([text](const line_ref& line, sluice::emitter<std::string>& out) {
      for_each_word(text->lines[line.index], [&](std::string_view w) { out(std::string{w}); });
    })
    .parallelism(par);
}

measurement run_sluice_wordcount(const options& opt, uint32_t par) {
  auto text = make_corpus();
  auto [lines, words] = plan(*text, target_words(opt));
  sluice::runtime rt{runtime_config(opt)};
  sluice::pipeline p{"wordcount"};
  result_sink<word_count> sink;
  auto acc = sink.acc;
  words_of(p, text, lines, par)
    .key_by([](const std::string& w) { return w; })
    .count()
    .parallelism(par)
    .sink(sink);
  return timed_run(rt, p, words, [&] { return acc->load(); });
}

measurement run_sluice_wordcount_combiner(const options& opt, uint32_t par) {
  auto text = make_corpus();
  auto [lines, words] = plan(*text, target_words(opt));
  sluice::runtime rt{runtime_config(opt)};
  sluice::pipeline p{"wordcount-combiner"};
  result_sink<std::pair<std::string, word_count>> sink;
  auto acc = sink.acc;
  lines_of(p, lines, par)
    .process<word_count>(local_count{text, {}})
    .parallelism(par)
    .key_by([](const word_count& wc) { return wc.first; })
    .reduce([](word_count a, const word_count& b) {
      a.second += b.second;
      return a;
    })
    .parallelism(par)
    .sink(sink);
  return timed_run(rt, p, words, [&] { return acc->load(); });
}

measurement run_bare_wordcount(const options& opt) {
  auto text = make_corpus();
  auto [lines, words] = plan(*text, target_words(opt));
  return timed(words, [&, lines = lines] {
    std::unordered_map<std::string, int64_t> counts;
    for (uint64_t i = 0; i < lines; ++i)
      for_each_word(text->lines[i % corpus_lines],
                    [&](std::string_view w) { ++counts[std::string{w}]; });
    uint64_t s = 0;
    for (const auto& [w, n] : counts)
      s += result_hash(w, n);
    return s;
  });
}

// ----- wordcount_state: the same word count in streaming mode, state in memory or LMDB -------

/// Streaming mode emits every updated count: (word, 1), (word, 2), ... for every word, in an
/// order that differs from run to run but whose set does not. The sum of their hashes is the
/// checksum, so every variant must count every word the same.
struct changelog_sink {
  using input_type = word_count;
  using output_type = sluice::no_output;

  std::shared_ptr<std::atomic<uint64_t>> acc = std::make_shared<std::atomic<uint64_t>>(0);

  void on_batch(std::vector<sluice::record<word_count>>& records,
                sluice::context<sluice::no_output>&) {
    uint64_t s = 0;
    for (const auto& r : records)
      s += result_hash(r.value.first, r.value.second);
    acc->fetch_add(s, std::memory_order_relaxed);
  }
};

uint64_t streaming_words(const options& opt) {
  return sized(opt, 50'000'000, 300'000);
}

measurement run_streaming_wordcount(const options& opt, sluice::state_backend backend,
                                    std::chrono::milliseconds checkpoint_interval) {
  constexpr uint32_t par = 2;
  const std::string name = "wordcount-state";
  auto text = make_corpus();
  auto [lines, words] = plan(*text, streaming_words(opt));
  auto cfg = runtime_config(opt);
  cfg.mode = sluice::execution_mode::streaming;
  cfg.state = backend;
  cfg.checkpoint_interval = checkpoint_interval;
  if (backend == sluice::state_backend::lmdb)
    cfg.state_dir = child_state_dir();
  sluice::runtime rt{cfg};
  sluice::pipeline p{name};
  changelog_sink sink;
  auto acc = sink.acc;
  words_of(p, text, lines, par)
    .key_by([](const std::string& w) { return w; })
    .count()
    .parallelism(par)
    .sink(sink)
    .parallelism(par);
  auto m = timed_run(rt, p, words, [&] { return acc->load(); });
  if (!m.ok)
    return m;
  if (checkpoint_interval.count() > 0) {
    auto record =
      sluice::checkpoint_record::load(sluice::pipeline_state_directory(cfg, name) + "/checkpoints");
    m.add_figure("checkpoints", "", static_cast<double>(record.completed));
  }
  return m;
}

} // namespace

workload wordcount_state_workload(const options& opt) {
  auto interval = std::chrono::milliseconds{opt.quick ? 100 : 1000};
  auto every = std::to_string(interval.count()) + " ms";
  return {"wc_state",
          "word count in streaming mode (keyed state updated per word, every count emitted), p=2",
          {
            {"memory", "in-memory state, no checkpoints", true,
             [](const options& o) {
               return run_streaming_wordcount(o, sluice::state_backend::memory,
                                              std::chrono::milliseconds{0});
             }},
            {"lmdb", "LMDB state, no checkpoints", false,
             [](const options& o) {
               return run_streaming_wordcount(o, sluice::state_backend::lmdb,
                                              std::chrono::milliseconds{0});
             }},
            {"lmdb_ckpt", "LMDB state, a checkpoint every " + every, false,
             [interval](const options& o) {
               return run_streaming_wordcount(o, sluice::state_backend::lmdb, interval);
             }},
          }};
}

workload wordcount_workload() {
  return {"wordcount",
          "lines -> flat_map(tokenize) -> key_by(word) -> count (batch mode) -> sink",
          {
            {"sluice_p2", "Sluice, source/flat_map/count at parallelism 2", false,
             [](const options& opt) { return run_sluice_wordcount(opt, 2); }},
            {"sluice_p1", "Sluice, everything at parallelism 1", false,
             [](const options& opt) { return run_sluice_wordcount(opt, 1); }},
            {"combiner", "Sluice p=2, counting fused into the tokenizer by hand, then reduce",
             false, [](const options& opt) { return run_sluice_wordcount_combiner(opt, 2); }},
            {"bare_loop", "one thread: tokenize + std::unordered_map<std::string, int64_t>", true,
             run_bare_wordcount},
          }};
}

} // namespace bench
