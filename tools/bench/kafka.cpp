// Workloads "kafka_passthrough", "kafka_wordcount" and "kafka_latency": the Kafka bridges on a
// real broker (kafka_broker.hpp), each beside a bare librdkafka loop doing the same work in the
// same run.
//
// - kafka_passthrough: topic (4 partitions, pre-filled) -> kafka_source (bounded) -> kafka_sink
// - kafka_wordcount: topic of lines -> flat_map(words) -> key_by -> count -> "word n" -> sink
// - kafka_latency: producer at a fixed rate -> topic -> source -> sink -> topic -> consumer
//
// The references: `raw_loop` consumes the input with a bare librdkafka consumer and produces the
// same bytes (or the same counts) with a bare producer, in one loop on one thread: the limit of
// the bridges. Where kcat is installed, `kcat_consume` and `kcat_produce` show kcat's rates for
// scale (they do half the work each, so no ratio is taken against them).
//
// Every variant's checksum is read back from the output topic after the timed run (the range it
// wrote): the sum of a hash of every value, so a lost or duplicated record shows.

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "sluice/all.hpp"
#include "sluice/key_group.hpp"
#include "sluice/operators/kafka_sink.hpp"
#include "sluice/operators/kafka_source.hpp"

#include "bench.hpp"
#include "kafka_broker.hpp"

namespace bench {

namespace {

constexpr int partitions = 4;
constexpr size_t value_bytes = 100;

/// CPU seconds of the waited-for child processes (kcat), user and system.
std::pair<double, double> children_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_CHILDREN, &ru);
  return {static_cast<double>(ru.ru_utime.tv_sec) + ru.ru_utime.tv_usec / 1e6,
          static_cast<double>(ru.ru_stime.tv_sec) + ru.ru_stime.tv_usec / 1e6};
}

/// Times `body()` like `timed`, then books the CPU of kcat (our child) as ours and reports the
/// broker's separately (`broker_cores`), so that `bg` still means other processes only.
template <class F>
measurement kafka_timed(uint64_t records, F&& body) {
  auto broker_before = broker_cpu_s();
  auto kids_before = children_cpu_s();
  auto m = timed(records, std::forward<F>(body));
  auto broker_s = broker_cpu_s() - broker_before;
  auto kids = children_cpu_s();
  auto kids_user = kids.first - kids_before.first;
  auto kids_sys = kids.second - kids_before.second;
  m.cpu_user_s += kids_user;
  m.cpu_sys_s += kids_sys;
  if (m.wall_s > 0) {
    m.background_cores =
      std::max(0.0, m.background_cores - (broker_s + kids_user + kids_sys) / m.wall_s);
    m.add_figure("broker_cores", "", broker_s / m.wall_s);
  }
  return m;
}

std::string unique_group() {
  static int next = 0;
  return "sluice-bench-" + std::to_string(getpid()) + "-" + std::to_string(next++);
}

// ----- bare librdkafka clients ----------------------------------------------------------------

using rd_properties = std::vector<std::pair<std::string, std::string>>;

struct rd_client {
  rd_kafka_t* handle = nullptr;
  rd_kafka_queue_t* queue = nullptr; ///< consumers: the consumer queue
  std::atomic<uint64_t> failed{0};   ///< producers: messages not delivered

  rd_client(rd_kafka_type_t type, const rd_properties& props) {
    std::array<char, 512> error{};
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    auto all = props;
    all.emplace_back("bootstrap.servers", broker_bootstrap());
    for (const auto& [key, value] : all)
      if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error.data(), error.size())
          != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        throw std::runtime_error("librdkafka property " + key + ": " + error.data());
      }
    if (type == RD_KAFKA_PRODUCER) {
      rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void* self) {
        if (m->err)
          static_cast<rd_client*>(self)->failed.fetch_add(1, std::memory_order_relaxed);
      });
      rd_kafka_conf_set_opaque(conf, this);
    }
    handle = rd_kafka_new(type, conf, error.data(), error.size());
    if (!handle) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(std::string{"cannot create a Kafka client: "} + error.data());
    }
    if (type == RD_KAFKA_CONSUMER) {
      rd_kafka_poll_set_consumer(handle);
      queue = rd_kafka_queue_get_consumer(handle);
    }
  }

  ~rd_client() {
    if (queue) {
      rd_kafka_queue_destroy(queue);
      rd_kafka_consumer_close(handle);
    }
    rd_kafka_destroy(handle);
  }

  rd_client(const rd_client&) = delete;
  rd_client& operator=(const rd_client&) = delete;

  /// Reads `topic`'s partitions from `offsets` (RD_KAFKA_OFFSET_BEGINNING and _END work too).
  void assign(const std::string& topic, const std::vector<int64_t>& offsets) {
    auto* list = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; ++p)
      rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset =
        offsets[static_cast<size_t>(p)];
    auto err = rd_kafka_assign(handle, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err)
      throw std::runtime_error("assign " + topic + ": " + rd_kafka_err2str(err));
  }

  /// Each partition's end offset (high watermark) now.
  std::vector<int64_t> ends(const std::string& topic) {
    std::vector<int64_t> result;
    for (int p = 0; p < partitions; ++p) {
      int64_t low = 0;
      int64_t high = 0;
      if (auto err =
            rd_kafka_query_watermark_offsets(handle, topic.c_str(), p, &low, &high, 10'000))
        throw std::runtime_error("end offsets of " + topic + ": " + rd_kafka_err2str(err));
      result.push_back(high);
    }
    return result;
  }

  /// Hands what was fetched to `fn` (at most 256 messages), waiting up to `wait_ms` for the
  /// first: consume_batch_queue alone would wait to fill the whole batch.
  template <class F>
  size_t consume(int wait_ms, F&& fn) {
    std::array<rd_kafka_message_t*, 256> messages{};
    size_t n = 0;
    if (auto* first = rd_kafka_consume_queue(queue, wait_ms)) {
      messages[0] = first;
      n = 1;
      auto more = rd_kafka_consume_batch_queue(queue, 0, messages.data() + 1, messages.size() - 1);
      n += static_cast<size_t>(std::max<ssize_t>(more, 0));
    }
    for (size_t i = 0; i < n; ++i) {
      const auto* m = messages[i];
      if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        std::string what = rd_kafka_err2str(m->err);
        for (size_t j = i; j < n; ++j)
          rd_kafka_message_destroy(messages[j]);
        throw std::runtime_error("consume: " + what);
      }
      fn(*m);
      rd_kafka_message_destroy(messages[i]);
    }
    return n;
  }

  /// Queues `value` for `topic` (any partition, or `partition`), waiting while the queue is full.
  void produce(const std::string& topic, std::string_view value, int64_t time = 0,
               int32_t partition = RD_KAFKA_PARTITION_UA) {
    for (;;) {
      auto err = rd_kafka_producev(
        handle, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_TIMESTAMP(time), RD_KAFKA_V_END);
      if (!err)
        break;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
        throw std::runtime_error("produce to " + topic + ": " + rd_kafka_err2str(err));
      rd_kafka_poll(handle, 10);
    }
    rd_kafka_poll(handle, 0);
  }

  void flush() {
    if (auto err = rd_kafka_flush(handle, 60'000))
      throw std::runtime_error(std::string{"flush: "} + rd_kafka_err2str(err));
    if (auto n = failed.load())
      throw std::runtime_error(std::to_string(n) + " messages were not delivered");
  }
};

/// The producer settings of every producer here, as kafka_sink sets them.
const rd_properties producer_properties{{"enable.idempotence", "true"}};

rd_properties consumer_properties() {
  return {{"group.id", unique_group()},
          {"enable.auto.commit", "false"},
          {"enable.partition.eof", "true"}};
}

std::vector<int64_t> topic_ends(const std::string& topic) {
  rd_client c{RD_KAFKA_CONSUMER, consumer_properties()};
  return c.ends(topic);
}

uint64_t value_hash(std::string_view v) {
  return mix64(sluice::hash_bytes(v.data(), v.size()));
}

/// `topic`'s end offsets once no transaction is in flight on it: a committed transaction's
/// markers reach the partitions shortly after the commit returned, and until then a
/// read_committed consumer (the default) stops before it.
std::vector<int64_t> stable_ends(rd_client& committed, const std::string& topic) {
  auto uncommitted_properties = consumer_properties();
  uncommitted_properties.emplace_back("isolation.level", "read_uncommitted");
  rd_client uncommitted{RD_KAFKA_CONSUMER, uncommitted_properties};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    auto ends = committed.ends(topic);
    if (ends == uncommitted.ends(topic))
      return ends;
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error(topic + ": a transaction still open after 60 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

/// Reads `topic` from `from` up to its end offsets now: the count and the sum of value hashes.
std::pair<uint64_t, uint64_t> read_back(const std::string& topic,
                                        const std::vector<int64_t>& from) {
  rd_client c{RD_KAFKA_CONSUMER, consumer_properties()};
  auto to = stable_ends(c, topic);
  auto next = from;
  c.assign(topic, from);
  uint64_t count = 0;
  uint64_t sum = 0;
  auto done = [&] {
    for (int p = 0; p < partitions; ++p)
      if (next[static_cast<size_t>(p)] < to[static_cast<size_t>(p)])
        return false;
    return true;
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("reading " + topic + " back timed out");
    c.consume(100, [&](const rd_kafka_message_t& m) {
      auto& n = next[static_cast<size_t>(m.partition)];
      if (m.err) {
        // The end of the partition: past a transaction's commit marker, which is no message.
        n = std::max(n, m.offset);
        return;
      }
      if (m.offset < n || m.offset >= to[static_cast<size_t>(m.partition)])
        return;
      n = m.offset + 1;
      ++count;
      sum += value_hash({static_cast<const char*>(m.payload), m.len});
    });
  }
  return {count, sum};
}

/// Fills `topic` with `values(i)` for i < n, round robin over the partitions.
template <class F>
void fill(const std::string& topic, uint64_t n, F&& values) {
  rd_client p{RD_KAFKA_PRODUCER, {{"linger.ms", "20"}, {"batch.num.messages", "10000"}}};
  for (uint64_t i = 0; i < n; ++i)
    p.produce(topic, values(i), 0, static_cast<int32_t>(i % partitions));
  p.flush();
}

// ----- data ----------------------------------------------------------------------------------

/// Record i of the passthrough input: its index, then letters, value_bytes in all.
std::string passthrough_value(uint64_t i) {
  std::string v(value_bytes, ' ');
  std::snprintf(v.data(), 12, "%010llu", static_cast<unsigned long long>(i));
  v[10] = ' ';
  auto h = mix64(i);
  for (size_t j = 11; j < value_bytes; ++j) {
    if (j % 8 == 0)
      h = mix64(h);
    v[j] = static_cast<char>('a' + (h >> (j % 8 * 8)) % 26);
  }
  return v;
}

/// The word-count vocabulary: 10000 words of 2 to 11 letters (as the wordcount workload's).
const std::vector<std::string>& vocabulary() {
  static const auto words = [] {
    std::vector<std::string> v;
    for (uint64_t w = 0; w < 10000; ++w) {
      auto h = mix64(w + 0x5eed);
      std::string word;
      for (uint64_t j = 0, len = 2 + h % 10; j < len; ++j)
        word += static_cast<char>('a' + mix64(h + j) % 26);
      v.push_back(std::move(word));
    }
    return v;
  }();
  return words;
}

/// Line i of the word-count input: 6 to 14 words, skewed towards the first of the vocabulary.
std::string line(uint64_t i) {
  const auto& vocab = vocabulary();
  auto h = mix64(i * 7919 + 1);
  auto n = 6 + h % 9;
  std::string text;
  for (uint64_t j = 0; j < n; ++j) {
    auto u = static_cast<double>(mix64(h + j + 1) >> 11) / 9007199254740992.0;
    if (j > 0)
      text += ' ';
    text += vocab[static_cast<size_t>(u * u * u * static_cast<double>(vocab.size()))];
  }
  return text;
}

template <class F>
void for_each_word(std::string_view text, F&& fn) {
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ')
      ++i;
    auto start = i;
    while (i < text.size() && text[i] != ' ')
      ++i;
    if (i > start)
      fn(text.substr(start, i - start));
  }
}

std::string count_text(const std::string& word, int64_t count) {
  return word + " " + std::to_string(count);
}

uint64_t passthrough_records(const options& opt) {
  return sized(opt, 1'000'000, 20'000);
}

uint64_t wordcount_lines(const options& opt) {
  return sized(opt, 1'000'000, 20'000);
}

const std::string pass_in = "pass_in";
const std::string pass_out = "pass_out";
const std::string wc_in = "wc_in";
const std::string wc_out = "wc_out";
const std::string kcat_out = "kcat_out";
const std::string lat_in = "lat_in";
const std::string lat_out = "lat_out";

sluice::kafka::properties sluice_properties() {
  return {{"bootstrap.servers", broker_bootstrap()}};
}

/// Checks what a variant wrote since `before` and makes its checksum; MB/s of `bytes`.
measurement finish(measurement m, const std::string& topic, const std::vector<int64_t>& before,
                   uint64_t expected, double bytes) {
  auto [count, sum] = read_back(topic, before);
  if (count != expected)
    return failed(topic + " received " + std::to_string(count) + " records, expected "
                  + std::to_string(expected));
  m.checksum = sum;
  if (bytes > 0 && m.wall_s > 0)
    m.add_figure("MB_per_s", "MB/s", bytes / m.wall_s / 1e6);
  return m;
}

// ----- kafka_passthrough ---------------------------------------------------------------------

/// How a passthrough variant writes its output: the sink is the one parameter of the Sluice
/// variants. An exactly-once (transactional) sink is one more entry in `sink_kinds`.
struct sink_kind {
  std::string prefix; ///< the variants are <prefix>_p1 and <prefix>_p2
  std::string description;
  /// What the sink needs of the runtime (a transactional sink: checkpoints).
  std::function<void(sluice::runtime_config&)> configure;
  /// Ends stream `s` in the sink writing to `out`, at parallelism `par`.
  std::function<void(sluice::stream<std::string>& s, const sluice::kafka_sink_options& out,
                     uint32_t par)>
    attach;
};

std::vector<sink_kind> sink_kinds() {
  return {{"sluice", "kafka_sink, at least once (idempotent producer, flushed at the end)",
           [](sluice::runtime_config&) {},
           [](sluice::stream<std::string>& s, const sluice::kafka_sink_options& out, uint32_t par) {
             s.sink(sluice::kafka_sink(out)).parallelism(par);
           }},
          {"sluice_eos",
           "kafka_sink, exactly once (a transaction per checkpoint, checkpoints every second)",
           [](sluice::runtime_config& cfg) { cfg.checkpoint_interval = std::chrono::seconds(1); },
           [](sluice::stream<std::string>& s, sluice::kafka_sink_options out, uint32_t par) {
             out.delivery = sluice::kafka_delivery::exactly_once;
             s.sink(sluice::kafka_sink(out)).parallelism(par);
           }}};
}

measurement run_sluice_passthrough(const options& opt, const sink_kind& kind, uint32_t par) {
  auto n = passthrough_records(opt);
  auto before = topic_ends(pass_out);
  auto cfg = runtime_config(opt);
  kind.configure(cfg);
  sluice::runtime rt{cfg};
  sluice::pipeline p{"kafka-passthrough"};
  sluice::kafka_source_options in;
  in.topic = pass_in;
  in.properties = sluice_properties();
  in.properties["group.id"] = unique_group();
  in.bounded = true;
  sluice::kafka_sink_options out;
  out.topic = pass_out;
  out.properties = sluice_properties();
  auto s = p.source(sluice::kafka_source(in)).parallelism(par);
  kind.attach(s, out, par);
  auto m = kafka_timed(n, [&] {
    if (auto err = rt.run(p))
      throw std::runtime_error(sluice::describe(err));
    return uint64_t{0};
  });
  return finish(m, pass_out, before, n, static_cast<double>(n * value_bytes));
}

/// Consumes `topic` from the beginning to its end offsets at start, handing each message to
/// `fn`, with a bare consumer on this thread.
template <class F>
void consume_all(const std::string& topic, F&& fn) {
  rd_client c{RD_KAFKA_CONSUMER, consumer_properties()};
  auto ends = c.ends(topic);
  std::vector<int64_t> next(partitions, 0);
  c.assign(topic, std::vector<int64_t>(partitions, RD_KAFKA_OFFSET_BEGINNING));
  auto done = [&] {
    for (size_t p = 0; p < next.size(); ++p)
      if (next[p] < ends[p])
        return false;
    return true;
  };
  while (!done())
    c.consume(100, [&](const rd_kafka_message_t& m) {
      auto p = static_cast<size_t>(m.partition);
      if (m.err) {
        next[p] = std::max(next[p], m.offset); // end of partition
        return;
      }
      if (m.offset >= ends[p])
        return;
      next[p] = m.offset + 1;
      fn(m);
    });
}

measurement run_raw_passthrough(const options& opt) {
  auto n = passthrough_records(opt);
  auto before = topic_ends(pass_out);
  auto m = kafka_timed(n, [&] {
    rd_client producer{RD_KAFKA_PRODUCER, producer_properties};
    consume_all(pass_in, [&](const rd_kafka_message_t& msg) {
      producer.produce(pass_out, {static_cast<const char*>(msg.payload), msg.len},
                       rd_kafka_message_timestamp(&msg, nullptr));
    });
    producer.flush();
    return uint64_t{0};
  });
  return finish(m, pass_out, before, n, static_cast<double>(n * value_bytes));
}

bool have_kcat() {
  return std::system("command -v kcat >/dev/null 2>&1") == 0;
}

measurement run_kcat_consume(const options& opt) {
  auto n = passthrough_records(opt);
  uint64_t count = 0;
  uint64_t sum = 0;
  auto m = kafka_timed(n, [&] {
    auto command =
      "kcat -b " + broker_bootstrap() + " -t " + pass_in + " -C -e -q -o beginning -f '%s\\n'";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe)
      throw std::runtime_error("cannot run kcat");
    std::array<char, 1024> line{};
    while (std::fgets(line.data(), line.size(), pipe)) {
      std::string_view v{line.data()};
      if (!v.empty() && v.back() == '\n')
        v.remove_suffix(1);
      ++count;
      sum += value_hash(v);
    }
    if (auto status = ::pclose(pipe); status != 0)
      throw std::runtime_error("kcat -C failed (" + std::to_string(status) + ")");
    return sum;
  });
  if (count != n)
    return failed("kcat read " + std::to_string(count) + " records, expected " + std::to_string(n));
  m.add_figure("MB_per_s", "MB/s", static_cast<double>(n * value_bytes) / m.wall_s / 1e6);
  return m;
}

measurement run_kcat_produce(const options& opt) {
  auto n = passthrough_records(opt);
  auto before = topic_ends(kcat_out);
  auto file = child_state_dir() + "-kcat.txt";
  {
    std::ofstream out{file};
    for (uint64_t i = 0; i < n; ++i)
      out << passthrough_value(i) << '\n';
    if (!out)
      throw std::runtime_error("cannot write " + file);
  }
  auto m = kafka_timed(n, [&] {
    auto status =
      std::system(("kcat -b " + broker_bootstrap() + " -t " + kcat_out + " -P -l " + file).c_str());
    if (status != 0)
      throw std::runtime_error("kcat -P failed (" + std::to_string(status) + ")");
    return uint64_t{0};
  });
  std::filesystem::remove(file);
  return finish(m, kcat_out, before, n, static_cast<double>(n * value_bytes));
}

// ----- kafka_wordcount -----------------------------------------------------------------------

using word_count = std::pair<std::string, int64_t>;

/// What the word-count input holds, found while filling it.
struct wordcount_facts {
  uint64_t lines = 0;
  uint64_t words = 0;
  uint64_t distinct = 0;
};

wordcount_facts& wordcount_input() {
  static wordcount_facts facts;
  return facts;
}

measurement run_sluice_wordcount(const options& opt, uint32_t par) {
  auto n = wordcount_lines(opt);
  auto before = topic_ends(wc_out);
  sluice::runtime rt{runtime_config(opt)};
  sluice::pipeline p{"kafka-wordcount"};
  sluice::kafka_source_options in;
  in.topic = wc_in;
  in.properties = sluice_properties();
  in.properties["group.id"] = unique_group();
  in.bounded = true;
  sluice::kafka_sink_options out;
  out.topic = wc_out;
  out.properties = sluice_properties();
  p.source(sluice::kafka_source(in))
    .parallelism(par)
    .flat_map([](const std::string& text, sluice::emitter<std::string>& words) {
      for_each_word(text, [&](std::string_view w) { words(std::string{w}); });
    })
    .parallelism(par)
    .key_by([](const std::string& w) { return w; })
    .count()
    .parallelism(par)
    .map([](const word_count& wc) { return count_text(wc.first, wc.second); })
    .parallelism(par)
    .sink(sluice::kafka_sink(out))
    .parallelism(par);
  auto m = kafka_timed(n, [&] {
    if (auto err = rt.run(p))
      throw std::runtime_error(sluice::describe(err));
    return uint64_t{0};
  });
  m = finish(m, wc_out, before, wordcount_input().distinct, 0);
  if (m.ok)
    m.add_figure("words_per_s", "M/s",
                 static_cast<double>(wordcount_input().words) / m.wall_s / 1e6);
  return m;
}

measurement run_raw_wordcount(const options& opt) {
  auto n = wordcount_lines(opt);
  auto before = topic_ends(wc_out);
  auto m = kafka_timed(n, [&] {
    std::unordered_map<std::string, int64_t> counts;
    consume_all(wc_in, [&](const rd_kafka_message_t& msg) {
      for_each_word({static_cast<const char*>(msg.payload), msg.len},
                    [&](std::string_view w) { ++counts[std::string{w}]; });
    });
    rd_client producer{RD_KAFKA_PRODUCER, producer_properties};
    for (const auto& [word, count] : counts)
      producer.produce(wc_out, count_text(word, count));
    producer.flush();
    return uint64_t{0};
  });
  m = finish(m, wc_out, before, wordcount_input().distinct, 0);
  if (m.ok)
    m.add_figure("words_per_s", "M/s",
                 static_cast<double>(wordcount_input().words) / m.wall_s / 1e6);
  return m;
}

// ----- kafka_latency -------------------------------------------------------------------------

double latency_rate(const options& opt) {
  return opt.quick ? 5'000 : 50'000;
}

std::chrono::milliseconds latency_duration(const options& opt) {
  return std::chrono::milliseconds{
    static_cast<int64_t>((opt.quick ? 1'000 : 10'000) * std::max(opt.scale, 0.1))};
}

/// A latency record: the steady_clock time of its send in ns (20 digits), padded to value_bytes.
std::string stamped_value(int64_t ns) {
  std::string v(value_bytes, 'x');
  std::snprintf(v.data(), 21, "%020lld", static_cast<long long>(ns));
  v[20] = ' ';
  return v;
}

int64_t stamp_of(const rd_kafka_message_t& m) {
  int64_t ns = 0;
  const auto* text = static_cast<const char*>(m.payload);
  std::from_chars(text, text + std::min<size_t>(m.len, 20), ns);
  return ns;
}

/// The path under test between the two topics: started before the producer, stopped after.
struct latency_path {
  virtual ~latency_path() = default;
  virtual void stop() = 0;
};

/// Sluice: kafka_source (unbounded, from the end of the topic at start) -> kafka_sink, p=1.
struct sluice_path : latency_path {
  sluice::runtime rt;
  sluice::pipeline p{"kafka-latency"};
  std::optional<sluice::job> job;

  explicit sluice_path(const options& opt) : rt(runtime_config(opt)) {
    sluice::kafka_source_options in;
    in.topic = lat_in;
    in.properties = sluice_properties();
    in.properties["group.id"] = unique_group();
    in.properties["auto.offset.reset"] = "latest";
    sluice::kafka_sink_options out;
    out.topic = lat_out;
    out.properties = sluice_properties();
    p.source(sluice::kafka_source(in)).sink(sluice::kafka_sink(out));
    auto started = rt.start(p);
    if (!started)
      throw std::runtime_error(sluice::describe(started.error()));
    job.emplace(std::move(*started));
  }

  void stop() override {
    job->cancel();
    (void)job->wait();
  }
};

/// The bare loop: consume, produce the same bytes, on one thread, until stopped.
struct raw_path : latency_path {
  std::atomic<bool> stopping{false};
  std::string error;
  std::thread thread;

  raw_path() {
    rd_client probe{RD_KAFKA_CONSUMER, consumer_properties()};
    auto from = probe.ends(lat_in);
    thread = std::thread{[this, from] {
      try {
        rd_client consumer{RD_KAFKA_CONSUMER, consumer_properties()};
        rd_client producer{RD_KAFKA_PRODUCER, producer_properties};
        consumer.assign(lat_in, from);
        while (!stopping.load()) {
          consumer.consume(100, [&](const rd_kafka_message_t& m) {
            if (!m.err)
              producer.produce(lat_out, {static_cast<const char*>(m.payload), m.len},
                               rd_kafka_message_timestamp(&m, nullptr));
          });
          rd_kafka_poll(producer.handle, 0);
        }
        producer.flush();
      } catch (const std::exception& e) {
        error = e.what();
      }
    }};
  }

  void stop() override {
    stopping = true;
    thread.join();
    if (!error.empty())
      throw std::runtime_error(error);
  }
};

measurement run_latency(const options& opt, bool use_sluice) {
  const auto rate = latency_rate(opt);
  const auto duration = latency_duration(opt);
  const auto warmup_ns = std::min<int64_t>(duration.count() * 100'000, 1'000'000'000);
  // The reader of the output topic, from its end now.
  std::atomic<bool> reading{true};
  std::atomic<uint64_t> received{0}; // records stamped after the warm-up
  std::atomic<int64_t> record_after{std::numeric_limits<int64_t>::max()};
  histogram hist;
  std::string reader_error;
  auto out_from = topic_ends(lat_out);
  std::thread reader{[&] {
    try {
      rd_client c{RD_KAFKA_CONSUMER, consumer_properties()};
      c.assign(lat_out, out_from);
      while (reading.load())
        c.consume(100, [&](const rd_kafka_message_t& m) {
          if (m.err)
            return;
          auto now = now_ns();
          auto stamp = stamp_of(m);
          if (stamp >= record_after.load(std::memory_order_relaxed)) {
            hist.record(now - stamp);
            received.fetch_add(1, std::memory_order_relaxed);
          }
        });
    } catch (const std::exception& e) {
      reader_error = e.what();
    }
  }};
  std::unique_ptr<latency_path> path;
  try {
    if (use_sluice)
      path = std::make_unique<sluice_path>(opt);
    else
      path = std::make_unique<raw_path>();
  } catch (...) {
    reading = false;
    reader.join();
    throw;
  }
  // The producer, paced: every 100 us it sends what the rate owes by then.
  rd_client producer{RD_KAFKA_PRODUCER, producer_properties};
  uint64_t sent = 0;
  uint64_t measured = 0;
  auto m = kafka_timed(0, [&] {
    auto start = now_ns();
    record_after = start + warmup_ns;
    const auto end = start + duration.count() * 1'000'000;
    for (auto now = start; now < end; now = now_ns()) {
      auto owed = static_cast<uint64_t>(static_cast<double>(now - start) * rate / 1e9);
      for (; sent < owed; ++sent) {
        auto stamp = now_ns();
        producer.produce(lat_in, stamped_value(stamp), 0, static_cast<int32_t>(sent % partitions));
        if (stamp >= start + warmup_ns)
          ++measured;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    producer.flush();
    // Everything sent after the warm-up must come out; give it 10 s.
    auto deadline = now_ns() + 10'000'000'000;
    while (received.load() < measured && now_ns() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return uint64_t{0};
  });
  path->stop();
  reading = false;
  reader.join();
  if (!reader_error.empty())
    return failed("reading " + lat_out + ": " + reader_error);
  if (received.load() < measured)
    return failed(std::to_string(measured - received.load()) + " of " + std::to_string(measured)
                  + " records did not come out within 10 s");
  m.records = sent;
  m.target_rate = rate;
  m.latency_samples = hist.count();
  m.p50_us = hist.quantile(0.5) / 1e3;
  m.p90_us = hist.quantile(0.9) / 1e3;
  m.p99_us = hist.quantile(0.99) / 1e3;
  m.p999_us = hist.quantile(0.999) / 1e3;
  m.max_us = static_cast<double>(hist.max()) / 1e3;
  return m;
}

// ----- preparation (in the parent) -----------------------------------------------------------

/// Why the Kafka workloads do not run now ("" if they do): --quick (the test suite's smoke run)
/// leaves them out, since they start a real broker; else no broker could be had.
std::string unavailable(const options& opt) {
  if (opt.quick)
    return "left out of --quick: it starts a real Kafka broker (run it with --workload)";
  return ensure_broker();
}

std::string prepare_passthrough(const options& opt) {
  if (auto skip = unavailable(opt); !skip.empty())
    return skip;
  for (const auto& t : {pass_in, pass_out, kcat_out})
    create_topic(t, partitions);
  static uint64_t filled = 0;
  if (filled == 0) {
    filled = passthrough_records(opt);
    fill(pass_in, filled, passthrough_value);
  }
  return "";
}

std::string prepare_wordcount(const options& opt) {
  if (auto skip = unavailable(opt); !skip.empty())
    return skip;
  for (const auto& t : {wc_in, wc_out})
    create_topic(t, partitions);
  auto& facts = wordcount_input();
  if (facts.lines == 0) {
    facts.lines = wordcount_lines(opt);
    std::unordered_set<std::string> seen;
    for (uint64_t i = 0; i < facts.lines; ++i)
      for_each_word(line(i), [&](std::string_view w) {
        ++facts.words;
        seen.emplace(w);
      });
    facts.distinct = seen.size();
    fill(wc_in, facts.lines, line);
  }
  return "";
}

std::string prepare_latency(const options& opt) {
  if (auto skip = unavailable(opt); !skip.empty())
    return skip;
  for (const auto& t : {lat_in, lat_out})
    create_topic(t, partitions);
  // A fresh broker's JVM compiles its hot paths in the first seconds of traffic, and the variant
  // that ran first paid for it in its tail latency: one run of the raw loop, not measured, warms
  // it up.
  static bool warm = false;
  if (!warm) {
    warm = true;
    (void)run_latency(opt, false); // a failure shows again in the measured runs
  }
  return "";
}

} // namespace

workload kafka_passthrough_workload(const options& opt) {
  workload w{"kafka_passthrough",
             "topic (4 partitions, " + std::to_string(passthrough_records(opt)) + " records of "
               + std::to_string(value_bytes)
               + " bytes) -> kafka_source (bounded) -> kafka_sink -> topic",
             {},
             prepare_passthrough};
  for (const auto& kind : sink_kinds())
    for (uint32_t par : {1u, 2u})
      w.variants.push_back(
        {kind.prefix + "_p" + std::to_string(par),
         "Sluice, source and sink at parallelism " + std::to_string(par) + "; " + kind.description,
         false, [kind, par](const options& o) { return run_sluice_passthrough(o, kind, par); }});
  w.variants.push_back({"raw_loop",
                        "one thread: bare librdkafka consumer, each message produced as it comes "
                        "by a bare idempotent producer",
                        true, run_raw_passthrough});
  if (have_kcat()) {
    w.variants.push_back({"kcat_cons", "kcat -C -e of the input topic, read through a pipe", true,
                          run_kcat_consume, 0, false});
    w.variants.push_back(
      {"kcat_prod", "kcat -P -l of the same values from a file", true, run_kcat_produce, 0, false});
  } else {
    w.description += " (kcat not installed: no kcat references)";
  }
  return w;
}

workload kafka_wordcount_workload(const options& opt) {
  return {"kafka_wordcount",
          "topic of " + std::to_string(wordcount_lines(opt))
            + " lines -> kafka_source (bounded) -> flat_map(words) -> key_by -> count (batch) -> "
              "\"word n\" -> kafka_sink",
          {
            {"sluice_p2", "Sluice, every operator at parallelism 2", false,
             [](const options& o) { return run_sluice_wordcount(o, 2); }},
            {"sluice_p1", "Sluice, every operator at parallelism 1", false,
             [](const options& o) { return run_sluice_wordcount(o, 1); }},
            {"raw_loop",
             "one thread: bare consumer, tokenize, std::unordered_map, then produce the counts",
             true, run_raw_wordcount},
          },
          prepare_wordcount};
}

workload kafka_latency_workload(const options& opt) {
  auto rate = std::to_string(static_cast<int64_t>(latency_rate(opt)));
  return {"kafka_latency",
          "producer at " + rate + " records/s -> topic -> passthrough -> topic -> consumer",
          {
            {"sluice", "Sluice kafka_source -> kafka_sink, parallelism 1, at " + rate + "/s", false,
             [](const options& o) { return run_latency(o, true); }},
            {"raw_loop", "bare consume-then-produce loop on one thread, at " + rate + "/s", false,
             [](const options& o) { return run_latency(o, false); }},
          },
          prepare_latency};
}

} // namespace bench
