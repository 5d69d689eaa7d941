// text_file -> ... -> write_file / print, at several parallelisms

#include <catch2/catch.hpp>

#include <optional>
#include <sstream>

#include "support/test_support.hpp"

using namespace sluice;

namespace {

/// The lines a text_file source at `parallelism` reads from `path`, sorted.
std::vector<std::string> sorted_lines_read(const std::string& path, uint32_t parallelism) {
  pipeline p{"read"};
  std::vector<std::string> out;
  p.source(text_file(path)).parallelism(parallelism).sink(collect(out));
  runtime rt{test::small_batches()};
  REQUIRE_FALSE(rt.run(p));
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace

TEST_CASE("a text file is read exactly once whatever the parallelism") {
  test::temp_dir dir;
  auto path = dir.file("in.txt");
  std::vector<std::string> lines;
  {
    std::ofstream file{path};
    for (int i = 0; i < 2000; ++i) {
      // Lines of varied length, some empty, so range boundaries fall everywhere.
      lines.push_back(std::string(static_cast<size_t>(i % 13), 'x') + std::to_string(i));
      if (i % 17 == 0)
        lines.back().clear();
      file << lines.back() << '\n';
    }
  }
  std::sort(lines.begin(), lines.end());
  for (uint32_t parallelism : {1u, 2u, 3u, 7u}) {
    INFO("parallelism " << parallelism);
    CHECK(sorted_lines_read(path, parallelism) == lines);
  }
}

TEST_CASE("lines longer than the reader's 64 KiB chunks and lines across chunks read whole") {
  test::temp_dir dir;
  auto path = dir.file("long.txt");
  std::vector<std::string> lines;
  {
    std::ofstream file{path};
    for (int i = 0; i < 60; ++i) {
      // From empty to 200,000 bytes: some lines span several chunks, most end inside one.
      auto length = static_cast<size_t>((i * 7919) % 200'001) / (i % 3 == 0 ? 1 : 100);
      lines.push_back(std::string(length, static_cast<char>('a' + i % 26)) + std::to_string(i));
      file << lines.back() << '\n';
    }
  }
  std::sort(lines.begin(), lines.end());
  for (uint32_t parallelism : {1u, 3u}) {
    INFO("parallelism " << parallelism);
    CHECK(sorted_lines_read(path, parallelism) == lines);
  }
}

TEST_CASE("a text file without a final newline and with CRLF line ends reads cleanly") {
  test::temp_dir dir;
  auto path = dir.file("crlf.txt");
  std::ofstream{path} << "one\r\ntwo\r\nthree";
  pipeline p{"crlf"};
  std::vector<std::string> out;
  p.source(text_file(path)).sink(collect(out));
  runtime rt;
  REQUIRE_FALSE(rt.run(p));
  CHECK(out == std::vector<std::string>{"one", "two", "three"});
}

TEST_CASE("the file sink writes one line per record, one file per instance") {
  test::temp_dir dir;
  std::vector<std::pair<std::string, int>> items;
  for (int i = 0; i < 100; ++i)
    items.emplace_back("k" + std::to_string(i), i);
  {
    pipeline p{"write"};
    p.source(from_collection(items)).sink(write_file(dir.file("single.txt")));
    runtime rt{test::small_batches()};
    REQUIRE_FALSE(rt.run(p));
    auto lines = test::read_lines(dir.file("single.txt"));
    REQUIRE(lines.size() == 100);
    CHECK(lines[0] == "k0,0");
    CHECK(lines[99] == "k99,99");
  }
  {
    pipeline p{"write-parallel"};
    p.source(from_collection(items))
      .rebalance()
      .sink(write_file(dir.file("multi.txt")))
      .parallelism(2);
    runtime rt{test::small_batches()};
    REQUIRE_FALSE(rt.run(p));
    auto a = test::read_lines(dir.file("multi.txt.part-0"));
    auto b = test::read_lines(dir.file("multi.txt.part-1"));
    CHECK(a.size() + b.size() == 100);
    CHECK_FALSE(a.empty());
    CHECK_FALSE(b.empty());
  }
}

TEST_CASE("the print sink writes a line per record and prefixes instances when parallel") {
  std::ostringstream os;
  pipeline p{"print"};
  p.source(from_collection(std::vector<int>{1, 2, 3})).sink(print(os));
  runtime rt;
  REQUIRE_FALSE(rt.run(p));
  CHECK(os.str() == "1\n2\n3\n");

  std::ostringstream parallel;
  pipeline q{"print-parallel"};
  q.source(from_collection(std::vector<int>{1, 2, 3, 4}))
    .parallelism(2)
    .sink(print(parallel))
    .parallelism(2);
  runtime rt2;
  REQUIRE_FALSE(rt2.run(q));
  auto text = parallel.str();
  CHECK(std::count(text.begin(), text.end(), '\n') == 4);
  CHECK_THAT(text, Catch::Contains("1> ") && Catch::Contains("2> "));
}

namespace {

/// What a source said of its splits (a split begun again only when it changes), and the lines
/// it emitted, in order.
struct split_log final : split_listener {
  std::vector<std::string> said;
  std::optional<uint64_t> current;

  void begin_split(uint64_t id) override {
    if (current != id)
      said.push_back("begin " + std::to_string(id));
    current = id;
  }
  void end_split(uint64_t id) override { said.push_back("end " + std::to_string(id)); }
  void emit_batch(std::vector<record<std::string>>& lines) {
    for (auto& line : lines)
      said.push_back(line.value);
    lines.clear();
  }
};

} // namespace

TEST_CASE("a text file names every range it reads as a split from the start, each until read") {
  test::temp_dir dir;
  auto path = dir.file("in.txt");
  {
    std::ofstream file{path};
    file << "a\nb\nc\nd\n"; // ranges [0, 4) and [4, 8) after a restore
  }
  split_log log;
  collector<std::string> out;
  out.bind(log, 1);
  instance_info info;
  state_store state;
  source_context<std::string> ctx{out, info, state, [](auto) {}};
  ctx.listen_to_splits(&log);
  op::text_file src{path};
  src.open(ctx);
  src.restore_splits({{4, 8}, {0, 4}});
  while (src.produce(ctx, 16).what == source_step::kind::more) {
  }
  out.drain();
  CHECK(log.said
        == std::vector<std::string>{"begin 4", "begin 8", "begin 4", "a", "b", "end 4", "begin 8",
                                    "c", "d", "end 8"});
}
