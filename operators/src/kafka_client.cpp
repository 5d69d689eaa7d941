#include "sluice/operators/kafka_client.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <string>
#include <thread>
#include <utility>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "kafka_common.hpp"

namespace sluice::kafka {

using detail::configuration;
using detail::coordinator_busy;
using detail::topic_partitions;
using detail::transient;

namespace {

/// What a consumer is configured with unless the caller says otherwise: Sluice keeps the
/// offsets in its checkpoints and commits them itself, and reads from the start by default
/// (as Kafka Streams does). Under backpressure the prefetch queue fills up to its bound, and
/// librdkafka stops fetching: 16 MB rather than the default 64 MB.
const properties consumer_defaults{
  {"enable.auto.commit", "false"},         {"enable.auto.offset.store", "false"},
  {"auto.offset.reset", "earliest"},       {"enable.partition.eof", "true"},
  {"queued.max.messages.kbytes", "16384"},
};

/// The offset group `handle` committed for `partition` of `topic` (negative for none), asked
/// again while the coordinator is busy, for up to `timeout_ms`; sets `err` on failure.
int64_t committed_offset(rd_kafka_t* handle, const std::string& topic, int32_t partition,
                         int timeout_ms, rd_kafka_resp_err_t& err) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, topic.c_str(), partition);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    err = rd_kafka_committed(handle, list, static_cast<int>(std::max<int64_t>(left.count(), 1)));
    if (!err)
      err = list->elems[0].err;
    auto offset = list->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(list);
    if (!coordinator_busy(err) || std::chrono::steady_clock::now() >= deadline)
      return offset;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

} // namespace

struct consumer::client {
  rd_kafka_t* handle = nullptr;
  rd_kafka_queue_t* queue = nullptr;
  std::string topic;
  std::string brokers;
  std::string reset = "earliest";
  int timeout_ms = 0;

  ~client() {
    if (queue)
      rd_kafka_queue_destroy(queue);
    if (handle) {
      rd_kafka_consumer_close(handle);
      rd_kafka_destroy(handle);
    }
  }

  /// "topic 'T' on brokers B: what", the form of every error.
  [[nodiscard]] std::string where(const std::string& what) const {
    return "Kafka topic '" + topic + "' on " + brokers + ": " + what;
  }

  [[noreturn]] void fail(const std::string& what, rd_kafka_resp_err_t err) const {
    throw kafka_error(where(what + ": " + rd_kafka_err2str(err)), topic);
  }
};

consumer::consumer(const properties& config, std::string topic, std::chrono::milliseconds timeout)
  : client_(std::make_unique<client>()) {
  auto& c = *client_;
  c.topic = std::move(topic);
  c.timeout_ms = static_cast<int>(timeout.count());
  auto settings = consumer_defaults;
  for (const auto& [key, value] : config)
    settings[key] = value;
  if (!settings.contains("bootstrap.servers"))
    throw kafka_error("Kafka topic '" + c.topic + "': no bootstrap.servers given", c.topic);
  if (!settings.contains("group.id"))
    throw kafka_error("Kafka topic '" + c.topic + "': no group.id given", c.topic);
  c.brokers = settings["bootstrap.servers"];
  c.reset = settings["auto.offset.reset"];
  std::array<char, 512> error{};
  rd_kafka_conf_t* conf = configuration(settings, c);
  c.handle = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error.data(), error.size());
  if (!c.handle) {
    rd_kafka_conf_destroy(conf);
    throw kafka_error(c.where(std::string{"cannot create a consumer: "} + error.data()), c.topic);
  }
  rd_kafka_poll_set_consumer(c.handle);
  c.queue = rd_kafka_queue_get_consumer(c.handle);
}

consumer::~consumer() = default;

int32_t consumer::partition_count() {
  return topic_partitions(*client_);
}

int64_t consumer::end_offset(int32_t partition) {
  auto& c = *client_;
  int64_t low = 0;
  int64_t high = 0;
  if (auto err = rd_kafka_query_watermark_offsets(c.handle, c.topic.c_str(), partition, &low, &high,
                                                  c.timeout_ms))
    c.fail("partition " + std::to_string(partition) + ": no end offset", err);
  return high;
}

int64_t consumer::start_offset(int32_t partition) {
  auto& c = *client_;
  rd_kafka_resp_err_t err;
  auto committed = committed_offset(c.handle, c.topic, partition, c.timeout_ms, err);
  if (err)
    c.fail("partition " + std::to_string(partition) + ": no committed offset", err);
  if (committed >= 0)
    return committed;
  int64_t low = 0;
  int64_t high = 0;
  if (auto werr = rd_kafka_query_watermark_offsets(c.handle, c.topic.c_str(), partition, &low,
                                                   &high, c.timeout_ms))
    c.fail("partition " + std::to_string(partition) + ": no offsets", werr);
  return c.reset == "latest" || c.reset == "largest" || c.reset == "end" ? high : low;
}

void consumer::assign(const std::vector<std::pair<int32_t, int64_t>>& offsets) {
  auto& c = *client_;
  rd_kafka_topic_partition_list_t* list =
    rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()));
  for (const auto& [partition, offset] : offsets)
    rd_kafka_topic_partition_list_add(list, c.topic.c_str(), partition)->offset = offset;
  auto err = rd_kafka_assign(c.handle, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err)
    c.fail("cannot assign partitions", err);
}

void consumer::commit(const std::vector<std::pair<int32_t, int64_t>>& offsets, bool wait) {
  auto& c = *client_;
  if (offsets.empty())
    return;
  rd_kafka_topic_partition_list_t* list =
    rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()));
  for (const auto& [partition, offset] : offsets)
    rd_kafka_topic_partition_list_add(list, c.topic.c_str(), partition)->offset = offset;
  auto err = rd_kafka_commit(c.handle, list, wait ? 0 : 1);
  rd_kafka_topic_partition_list_destroy(list);
  if (err)
    c.fail("cannot commit offsets", err);
}

size_t consumer::poll(size_t max, const std::function<void(const message_view&)>& on_message,
                      const std::function<void(int32_t, int64_t)>& on_end) {
  auto& c = *client_;
  constexpr size_t chunk = 256;
  std::array<rd_kafka_message_t*, chunk> messages{};
  size_t handed = 0;
  while (handed < max) {
    auto n =
      rd_kafka_consume_batch_queue(c.queue, 0, messages.data(), std::min(chunk, max - handed));
    if (n <= 0)
      break;
    size_t i = 0;
    try {
      for (; i < static_cast<size_t>(n); ++i) {
        const auto* m = messages[i];
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          on_end(m->partition, m->offset);
        } else if (m->err && !transient(m->err)) {
          c.fail("partition " + std::to_string(m->partition) + ": cannot consume", m->err);
        } else if (!m->err) {
          message_view view;
          view.partition = m->partition;
          view.offset = m->offset;
          auto time = rd_kafka_message_timestamp(m, nullptr);
          view.time = time >= 0 ? time : min_timestamp;
          if (m->key)
            view.key = {static_cast<const char*>(m->key), m->key_len};
          view.value = {static_cast<const char*>(m->payload), m->len};
          view.tombstone = m->payload == nullptr;
          on_message(view);
          ++handed;
        }
        rd_kafka_message_destroy(messages[i]);
      }
    } catch (...) {
      for (; i < static_cast<size_t>(n); ++i)
        rd_kafka_message_destroy(messages[i]);
      throw;
    }
  }
  return handed;
}

struct producer::client {
  rd_kafka_t* handle = nullptr;
  std::string topic;
  std::string brokers;
  /// Empty for a producer that is not transactional.
  std::string transactional_id;
  /// What a consumer reading the progress mark needs of the producer's settings.
  properties connection;
  int timeout_ms = 0;
  /// The first delivery failure, set on librdkafka's thread that serves delivery reports (our
  /// polls, so never concurrently with a read).
  std::string failure;

  ~client() {
    if (handle)
      rd_kafka_destroy(handle);
  }

  [[nodiscard]] std::string where(const std::string& what) const {
    if (transactional_id.empty())
      return "Kafka topic '" + topic + "' on " + brokers + ": " + what;
    return "Kafka topic '" + topic + "' on " + brokers + " (transactional id '" + transactional_id
           + "'): " + what;
  }

  void check() const {
    if (!failure.empty())
      throw kafka_error(where(failure), topic);
  }

  /// Throws `error` (taking it) as a kafka_error about `what`; nothing for no error.
  void check(rd_kafka_error_t* error, const std::string& what) const {
    if (!error)
      return;
    std::string text = rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
    throw kafka_error(where(what + ": " + text), topic);
  }

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<client*>(opaque);
    if (m->err && self->failure.empty())
      self->failure = "partition " + std::to_string(m->partition)
                      + ": a message was not delivered: " + rd_kafka_err2str(m->err);
  }
};

namespace {

/// Whether a producer setting also concerns a consumer of the same brokers: where they are and
/// how to reach them.
bool connection_setting(const std::string& key) {
  return key == "bootstrap.servers" || key == "broker.address.family" || key == "client.id"
         || key.starts_with("security.") || key.starts_with("ssl.") || key.starts_with("sasl.");
}

} // namespace

producer::producer(const properties& config, std::string topic, std::chrono::milliseconds timeout)
  : client_(std::make_unique<client>()) {
  auto& c = *client_;
  c.topic = std::move(topic);
  c.timeout_ms = static_cast<int>(timeout.count());
  // Keys go to partitions as Kafka's Java clients (and so Kafka Streams) put them.
  properties settings{{"enable.idempotence", "true"}, {"partitioner", "murmur2_random"}};
  for (const auto& [key, value] : config)
    settings[key] = value;
  if (!settings.contains("bootstrap.servers"))
    throw kafka_error("Kafka topic '" + c.topic + "': no bootstrap.servers given", c.topic);
  c.brokers = settings["bootstrap.servers"];
  if (auto id = settings.find("transactional.id"); id != settings.end())
    c.transactional_id = id->second;
  for (const auto& [key, value] : settings)
    if (connection_setting(key))
      c.connection[key] = value;
  std::array<char, 512> error{};
  rd_kafka_conf_t* conf = configuration(settings, c);
  rd_kafka_conf_set_dr_msg_cb(conf, &client::on_delivery);
  rd_kafka_conf_set_opaque(conf, &c);
  c.handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error.data(), error.size());
  if (!c.handle) {
    rd_kafka_conf_destroy(conf);
    throw kafka_error(c.where(std::string{"cannot create a producer: "} + error.data()), c.topic);
  }
  // A missing topic or unreachable brokers fail here, clearly, rather than as messages that are
  // never acknowledged.
  topic_partitions(c);
  if (!c.transactional_id.empty())
    c.check(rd_kafka_init_transactions(c.handle, c.timeout_ms),
            "cannot initialize transactions within " + std::to_string(c.timeout_ms) + " ms");
}

producer::~producer() = default;

void producer::send(std::string_view key, bool keyed, std::optional<std::string_view> value,
                    timestamp time) {
  auto& c = *client_;
  // librdkafka writes a null payload as a tombstone, any other (also of no bytes) as a value.
  const char* payload = value ? (value->data() ? value->data() : "") : nullptr;
  auto size = value ? value->size() : 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(c.timeout_ms);
  for (;;) {
    auto err = rd_kafka_producev(
      c.handle, RD_KAFKA_V_TOPIC(c.topic.c_str()),
      RD_KAFKA_V_KEY(keyed ? key.data() : nullptr, keyed ? key.size() : 0),
      RD_KAFKA_V_VALUE(const_cast<char*>(payload), size), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_TIMESTAMP(time == min_timestamp ? 0 : time), RD_KAFKA_V_END);
    if (!err)
      break;
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
      throw kafka_error(c.where(std::string{"cannot send: "} + rd_kafka_err2str(err)), c.topic);
    // Backpressure: the queue drains as the brokers acknowledge.
    if (std::chrono::steady_clock::now() >= deadline)
      throw kafka_error(
        c.where("the producer queue stayed full for " + std::to_string(c.timeout_ms) + " ms"),
        c.topic);
    rd_kafka_poll(c.handle, 10);
    c.check();
  }
  rd_kafka_poll(c.handle, 0);
  c.check();
}

void producer::flush() {
  auto& c = *client_;
  auto err = rd_kafka_flush(c.handle, c.timeout_ms);
  c.check();
  if (err)
    throw kafka_error(c.where("not every message was acknowledged within "
                              + std::to_string(c.timeout_ms) + " ms: " + rd_kafka_err2str(err)),
                      c.topic);
}

void producer::commit(uint64_t progress, const std::function<void()>& write) {
  auto& c = *client_;
  c.check(rd_kafka_begin_transaction(c.handle), "cannot begin a transaction");
  try {
    write();
    rd_kafka_topic_partition_list_t* offsets = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(offsets, c.topic.c_str(), 0)->offset =
      static_cast<int64_t>(progress);
    rd_kafka_consumer_group_metadata_t* group =
      rd_kafka_consumer_group_metadata_new(c.transactional_id.c_str());
    auto* error = rd_kafka_send_offsets_to_transaction(c.handle, offsets, group, c.timeout_ms);
    rd_kafka_consumer_group_metadata_destroy(group);
    rd_kafka_topic_partition_list_destroy(offsets);
    c.check(error, "cannot store progress " + std::to_string(progress) + " in the transaction");
    c.check(rd_kafka_commit_transaction(c.handle, c.timeout_ms),
            "cannot commit the transaction of progress " + std::to_string(progress));
    c.check();
  } catch (...) {
    // Whatever was sent is discarded; the caller fails, and its successor writes it again.
    if (auto* error = rd_kafka_abort_transaction(c.handle, c.timeout_ms))
      rd_kafka_error_destroy(error);
    throw;
  }
}

uint64_t producer::committed_progress() {
  auto& c = *client_;
  properties settings = c.connection;
  settings["group.id"] = c.transactional_id;
  settings["isolation.level"] = "read_committed";
  settings["log_level"] = "3";
  std::array<char, 512> error{};
  rd_kafka_conf_t* conf = configuration(settings, c);
  rd_kafka_t* reader = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error.data(), error.size());
  if (!reader) {
    rd_kafka_conf_destroy(conf);
    throw kafka_error(c.where(std::string{"cannot create a progress reader: "} + error.data()),
                      c.topic);
  }
  rd_kafka_resp_err_t err;
  auto offset = committed_offset(reader, c.topic, 0, c.timeout_ms, err);
  rd_kafka_destroy(reader);
  if (err)
    throw kafka_error(
      c.where(std::string{"cannot read the committed progress: "} + rd_kafka_err2str(err)),
      c.topic);
  return offset > 0 ? static_cast<uint64_t>(offset) : 0;
}

struct mock_cluster::cluster {
  /// The client the mock cluster lives in: librdkafka runs a mock cluster on a client's threads.
  rd_kafka_t* host = nullptr;
  rd_kafka_mock_cluster_t* mock = nullptr;
  std::string bootstrap;

  ~cluster() {
    if (mock)
      rd_kafka_mock_cluster_destroy(mock);
    if (host)
      rd_kafka_destroy(host);
  }
};

mock_cluster::mock_cluster(int brokers) : cluster_(std::make_unique<cluster>()) {
  auto& c = *cluster_;
  std::array<char, 512> error{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", error.data(), error.size());
  c.host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error.data(), error.size());
  if (!c.host) {
    rd_kafka_conf_destroy(conf);
    throw kafka_error(std::string{"cannot start a mock Kafka cluster: "} + error.data());
  }
  c.mock = rd_kafka_mock_cluster_new(c.host, brokers);
  if (!c.mock)
    throw kafka_error("cannot start a mock Kafka cluster of " + std::to_string(brokers)
                      + " brokers");
  c.bootstrap = rd_kafka_mock_cluster_bootstraps(c.mock);
}

mock_cluster::~mock_cluster() = default;

const std::string& mock_cluster::bootstrap() const noexcept {
  return cluster_->bootstrap;
}

void mock_cluster::create_topic(const std::string& topic, int partitions) {
  if (auto err = rd_kafka_mock_topic_create(cluster_->mock, topic.c_str(), partitions, 1))
    throw kafka_error("mock Kafka cluster at " + cluster_->bootstrap + ": cannot create topic '"
                      + topic + "': " + rd_kafka_err2str(err));
}

} // namespace sluice::kafka
