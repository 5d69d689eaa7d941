#pragma once

// Kafka for tests: librdkafka's mock cluster (fast, in process), a real broker started by
// tools/kafka-broker, a producer to fill topics, and the offsets a group committed.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "support/build_paths.hpp"
#include "support/test_support.hpp"

namespace sluice::test {

/// A producer that sends test messages; quiet unless something fails.
class kafka_producer {
public:
  /// Connects to `bootstrap` (empty: the caller adds brokers, as kafka_mock does).
  explicit kafka_producer(const std::string& bootstrap) {
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    for (auto [key, value] : {std::pair{"linger.ms", "0"}, std::pair{"log_level", "3"}})
      if (rd_kafka_conf_set(conf, key, value, error, sizeof error) != RD_KAFKA_CONF_OK)
        throw std::runtime_error(error);
    if (!bootstrap.empty()
        && rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), error, sizeof error)
             != RD_KAFKA_CONF_OK)
      throw std::runtime_error(error);
    handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (!handle_)
      throw std::runtime_error(std::string{"test producer: "} + error);
  }

  ~kafka_producer() {
    rd_kafka_flush(handle_, 10'000);
    rd_kafka_destroy(handle_);
  }

  kafka_producer(const kafka_producer&) = delete;
  kafka_producer& operator=(const kafka_producer&) = delete;

  /// Sends `value` to `partition` with Kafka timestamp `time` (ms); while the queue is full
  /// (100'000 messages unacknowledged), waits for it to drain.
  void produce(const std::string& topic, int32_t partition, const std::string& value,
               int64_t time) {
    send(topic, partition, nullptr, value, time);
  }

  /// Sends a message with `key` and `value` (none: a tombstone) to `partition`, as produce.
  void produce_keyed(const std::string& topic, int32_t partition, const std::string& key,
                     const std::optional<std::string>& value, int64_t time) {
    send(topic, partition, &key, value, time);
  }

  /// Waits until everything produced is acknowledged.
  void flush() {
    if (auto err = rd_kafka_flush(handle_, 30'000))
      throw std::runtime_error("test flush: " + std::string{rd_kafka_err2str(err)});
  }

  [[nodiscard]] rd_kafka_t* handle() const { return handle_; }

private:
  void send(const std::string& topic, int32_t partition, const std::string* key,
            const std::optional<std::string>& value, int64_t time) {
    rd_kafka_resp_err_t err;
    auto* payload = value ? const_cast<char*>(value->data()) : nullptr;
    size_t size = value ? value->size() : 0;
    const char* key_bytes = key ? key->data() : nullptr;
    size_t key_size = key ? key->size() : 0;
    while ((err = rd_kafka_producev(
              handle_, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
              RD_KAFKA_V_KEY(key_bytes, key_size), RD_KAFKA_V_VALUE(payload, size),
              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_TIMESTAMP(time), RD_KAFKA_V_END))
           == RD_KAFKA_RESP_ERR__QUEUE_FULL)
      rd_kafka_poll(handle_, 10);
    if (err)
      throw std::runtime_error("test produce: " + std::string{rd_kafka_err2str(err)});
    rd_kafka_poll(handle_, 0);
  }

  rd_kafka_t* handle_ = nullptr;
};

/// A one-broker mock Kafka cluster in this process, with a producer connected to it.
class kafka_mock {
public:
  kafka_mock() : producer_("") {
    cluster_ = rd_kafka_mock_cluster_new(producer_.handle(), 1);
    if (!cluster_)
      throw std::runtime_error("cannot start a mock Kafka cluster");
    bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster_);
    rd_kafka_brokers_add(producer_.handle(), bootstrap_.c_str());
  }

  ~kafka_mock() {
    producer_.flush();
    rd_kafka_mock_cluster_destroy(cluster_);
  }

  kafka_mock(const kafka_mock&) = delete;
  kafka_mock& operator=(const kafka_mock&) = delete;

  [[nodiscard]] const std::string& bootstrap() const { return bootstrap_; }

  void create_topic(const std::string& topic, int partitions) {
    if (auto err = rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1))
      throw std::runtime_error("mock topic " + topic + ": " + rd_kafka_err2str(err));
  }

  /// Takes the broker down (its connections closed, new ones refused) or back up.
  void set_broker_up(bool up) {
    if (up)
      rd_kafka_mock_broker_set_up(cluster_, 1);
    else
      rd_kafka_mock_broker_set_down(cluster_, 1);
  }

  /// Answers the next `count` produce requests with `error` instead of taking them.
  void fail_produce_requests(rd_kafka_resp_err_t error, size_t count) {
    fail_requests(produce_api, error, count);
  }

  /// Answers the next `count` fetch requests with `error` instead of serving them.
  void fail_fetch_requests(rd_kafka_resp_err_t error, size_t count) {
    fail_requests(fetch_api, error, count);
  }

  kafka_producer& producer() { return producer_; }

private:
  // The Kafka protocol's request types (ApiKey).
  static constexpr int16_t produce_api = 0;
  static constexpr int16_t fetch_api = 1;

  void fail_requests(int16_t api, rd_kafka_resp_err_t error, size_t count) {
    std::vector<rd_kafka_resp_err_t> errors(count, error);
    rd_kafka_mock_push_request_errors_array(cluster_, api, count, errors.data());
  }

  kafka_producer producer_;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstrap_;
};

/// Runs a shell command; returns its exit status and what it printed on stdout.
inline std::pair<int, std::string> run_command(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe)
    throw std::runtime_error("cannot run: " + command);
  std::array<char, 4096> buffer{};
  while (auto n = std::fread(buffer.data(), 1, buffer.size(), pipe))
    out.append(buffer.data(), n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

/// A real single-node Kafka broker (tools/kafka-broker, docs/kafka.md) with its state in a
/// temporary directory, stopped when this goes.
class kafka_broker {
public:
  /// Starts a broker; when its prerequisites (Java 17+, Maven for a cold jar cache) are missing,
  /// reports the running test skipped with the reason (test::skip) and returns null.
  /// @throws std::runtime_error, with the broker's log, when it fails otherwise.
  static std::unique_ptr<kafka_broker> start_or_skip() {
    std::unique_ptr<kafka_broker> broker{new kafka_broker};
    auto errors = broker->dir_.file("start.err");
    auto [status, out] = run_command(script() + " start " + broker->state() + " 2>" + errors);
    std::stringstream reason;
    reason << std::ifstream{errors}.rdbuf();
    if (status == 3) {
      skip("no Kafka broker: " + reason.str());
      return nullptr;
    }
    if (status != 0)
      throw std::runtime_error("tools/kafka-broker start failed (" + std::to_string(status)
                               + "): " + reason.str());
    broker->bootstrap_ = out.substr(0, out.find_first_of("\r\n"));
    return broker;
  }

  ~kafka_broker() { run_command(script() + " stop " + state() + " >/dev/null 2>&1"); }

  kafka_broker(const kafka_broker&) = delete;
  kafka_broker& operator=(const kafka_broker&) = delete;

  [[nodiscard]] const std::string& bootstrap() const { return bootstrap_; }

  /// Creates `topic` with `partitions` partitions and topic configs `configs` ("key=value").
  void create_topic(const std::string& topic, int partitions,
                    const std::vector<std::string>& configs = {}) {
    auto command =
      script() + " topic " + state() + " create " + topic + " " + std::to_string(partitions);
    for (const auto& config : configs)
      command += " " + config;
    auto [status, out] = run_command(command + " 2>&1");
    if (status != 0)
      throw std::runtime_error("cannot create topic " + topic + ": " + out);
  }

  /// What `kafka-topics --describe` says of `topic`: its partition count and its configs.
  [[nodiscard]] std::string describe_topic(const std::string& topic) const {
    auto [status, out] =
      run_command(script() + " topic " + state() + " describe " + topic + " 2>&1");
    if (status != 0)
      throw std::runtime_error("cannot describe topic " + topic + ": " + out);
    return out;
  }

  /// Stops the broker cleanly (SIGTERM; its topics and offsets stay in its directory).
  /// @throws std::runtime_error if it does not stop.
  void stop() {
    auto [status, out] = run_command(script() + " stop " + state() + " 2>&1");
    if (status != 0)
      throw std::runtime_error("tools/kafka-broker stop failed (" + std::to_string(status)
                               + "): " + out);
  }

  /// Starts the stopped broker again over the same data and on the same ports, so its clients
  /// reconnect to the address they had. @throws std::runtime_error if it does not start, or
  /// came up on another address (a port was taken meanwhile).
  void restart() {
    auto [status, out] = run_command(script() + " start " + state() + " 2>&1");
    if (status != 0)
      throw std::runtime_error("tools/kafka-broker start (again) failed (" + std::to_string(status)
                               + "): " + out);
    auto address = bootstrap_file();
    if (address != bootstrap_)
      throw std::runtime_error("the restarted broker listens on " + address + ", not "
                               + bootstrap_);
  }

private:
  kafka_broker() = default;

  static std::string script() { return source_dir() + "/tools/kafka-broker"; }
  [[nodiscard]] std::string state() const { return dir_.file("broker"); }

  /// The address the broker last started on (DIR/bootstrap).
  [[nodiscard]] std::string bootstrap_file() const {
    std::string address;
    std::ifstream{state() + "/bootstrap"} >> address;
    return address;
  }

  temp_dir dir_;
  std::string bootstrap_;
};

/// A port on 127.0.0.1 that nothing listens on: bound by the kernel's choice, then closed, so
/// a connection to it is refused (until another process happens to take it).
inline int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    throw std::runtime_error("closed_port: no socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0
      || ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    throw std::runtime_error("closed_port: cannot bind");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

/// The offsets group `group` committed for partitions 0 .. `partitions`-1 of `topic` (-1001
/// where it committed none).
inline std::vector<int64_t> committed_offsets(const std::string& bootstrap,
                                              const std::string& group, const std::string& topic,
                                              int partitions) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), error, sizeof error);
  rd_kafka_conf_set(conf, "group.id", group.c_str(), error, sizeof error);
  rd_kafka_conf_set(conf, "log_level", "3", error, sizeof error);
  rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
  if (!consumer)
    throw std::runtime_error(error);
  auto* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p);
  auto err = rd_kafka_committed(consumer, list, 10'000);
  std::vector<int64_t> offsets;
  for (int p = 0; p < partitions; ++p)
    offsets.push_back(list->elems[p].offset);
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_destroy(consumer);
  if (err)
    throw std::runtime_error("committed offsets: " + std::string{rd_kafka_err2str(err)});
  return offsets;
}

/// A message as read_topic returns it.
struct read_message {
  int32_t partition = 0;
  std::string key;
  std::string value;
  /// No value at all (a null payload).
  bool tombstone = false;
};

namespace detail {

/// A consumer of `bootstrap` with `isolation` ("read_committed" or "read_uncommitted").
inline rd_kafka_t* test_consumer(const std::string& bootstrap, const char* isolation) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (auto [key, value] :
       {std::pair{"bootstrap.servers", bootstrap.c_str()}, std::pair{"group.id", "test-reader"},
        std::pair{"isolation.level", isolation}, std::pair{"enable.auto.commit", "false"},
        std::pair{"enable.partition.eof", "true"}, std::pair{"log_level", "3"}})
    if (rd_kafka_conf_set(conf, key, value, error, sizeof error) != RD_KAFKA_CONF_OK)
      throw std::runtime_error(error);
  rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
  if (!consumer)
    throw std::runtime_error(error);
  return consumer;
}

/// Partition `partition`'s end as a consumer of `consumer`'s isolation sees it: the high
/// watermark, or for read_committed the last stable offset (before the first transaction still
/// open or not yet marked).
inline int64_t end_offset(rd_kafka_t* consumer, const std::string& topic, int32_t partition) {
  int64_t low = 0;
  int64_t high = 0;
  if (auto err =
        rd_kafka_query_watermark_offsets(consumer, topic.c_str(), partition, &low, &high, 10'000))
    throw std::runtime_error("end offset of " + topic + ": " + rd_kafka_err2str(err));
  return high;
}

} // namespace detail

/// Every message of `topic` (partitions 0 .. `partitions`-1) as a `read_committed` consumer
/// sees it: committed transactions only. First waits (up to 60 s) until no transaction is in
/// flight: a committed transaction's markers reach the partitions shortly after the commit
/// returned, and until then a read_committed consumer stops before it.
inline std::vector<read_message> read_topic(const std::string& bootstrap, const std::string& topic,
                                            int partitions) {
  rd_kafka_t* consumer = detail::test_consumer(bootstrap, "read_committed");
  rd_kafka_t* uncommitted = detail::test_consumer(bootstrap, "read_uncommitted");
  bool stable = eventually(
    [&] {
      for (int p = 0; p < partitions; ++p)
        if (detail::end_offset(consumer, topic, p) != detail::end_offset(uncommitted, topic, p))
          return false;
      return true;
    },
    std::chrono::seconds(60));
  rd_kafka_destroy(uncommitted);
  if (!stable) {
    rd_kafka_destroy(consumer);
    throw std::runtime_error("read_topic " + topic + ": a transaction still open after 60 s");
  }
  rd_kafka_poll_set_consumer(consumer);
  auto* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(consumer, list);
  rd_kafka_topic_partition_list_destroy(list);
  std::vector<read_message> messages;
  int ended = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::string failure;
  while (ended < partitions && failure.empty()) {
    if (std::chrono::steady_clock::now() > deadline)
      failure = "read_topic " + topic + ": not at the end within 60 s";
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 100);
    if (!m)
      continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
      ++ended;
    else if (m->err)
      failure = "read_topic " + topic + ": " + rd_kafka_message_errstr(m);
    else
      messages.push_back(
        {m->partition, m->key ? std::string{static_cast<const char*>(m->key), m->key_len} : "",
         std::string{static_cast<const char*>(m->payload), m->len}, m->payload == nullptr});
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  if (!failure.empty())
    throw std::runtime_error(failure);
  return messages;
}

} // namespace sluice::test
