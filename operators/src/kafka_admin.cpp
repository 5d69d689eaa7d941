#include "sluice/operators/kafka_admin.hpp"

#include <array>
#include <memory>
#include <string>
#include <thread>

#include <librdkafka/rdkafka.h>

#include "kafka_common.hpp"

namespace sluice::kafka {

namespace {

/// An admin client, and the topic its errors name (what `detail::configuration` and
/// `detail::topic_partitions` ask of a client).
struct admin_client {
  rd_kafka_t* handle = nullptr;
  std::string topic;
  std::string brokers;
  int timeout_ms = 0;

  admin_client() = default;
  admin_client(const admin_client&) = delete;
  admin_client& operator=(const admin_client&) = delete;
  ~admin_client() {
    if (handle)
      rd_kafka_destroy(handle);
  }

  /// "Kafka topic 'T' on brokers B: what", the form of every error.
  [[nodiscard]] std::string where(const std::string& what) const {
    return "Kafka topic '" + topic + "' on " + brokers + ": " + what;
  }

  [[noreturn]] void fail(const std::string& what) const { throw kafka_error(where(what), topic); }
};

/// Asks the brokers to create `topics`; a topic that exists already is no error.
void create_topics(admin_client& client, const std::vector<topic_spec>& topics) {
  std::array<char, 512> error{};
  std::vector<rd_kafka_NewTopic_t*> requests;
  auto release = [&] {
    for (auto* request : requests)
      rd_kafka_NewTopic_destroy(request);
  };
  for (const auto& spec : topics) {
    client.topic = spec.name;
    auto* request =
      rd_kafka_NewTopic_new(spec.name.c_str(), spec.partitions, -1, error.data(), error.size());
    if (!request) {
      release();
      client.fail(std::string{"cannot ask for the topic: "} + error.data());
    }
    requests.push_back(request);
    for (const auto& [key, value] : spec.configs)
      if (auto err = rd_kafka_NewTopic_set_config(request, key.c_str(), value.c_str())) {
        release();
        client.fail("topic config " + key + "=" + value + ": " + rd_kafka_err2str(err));
      }
  }
  auto* options = rd_kafka_AdminOptions_new(client.handle, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(options, client.timeout_ms, error.data(), error.size());
  rd_kafka_AdminOptions_set_operation_timeout(options, client.timeout_ms, error.data(),
                                              error.size());
  auto* queue = rd_kafka_queue_new(client.handle);
  rd_kafka_CreateTopics(client.handle, requests.data(), requests.size(), options, queue);
  rd_kafka_AdminOptions_destroy(options);
  release();
  // The request times out on its own after `timeout_ms`; the poll waits a little longer.
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, client.timeout_ms + 1000);
  rd_kafka_queue_destroy(queue);
  std::unique_ptr<rd_kafka_event_t, decltype(&rd_kafka_event_destroy)> guard{
    event, &rd_kafka_event_destroy};
  client.topic = topics.front().name;
  if (!event)
    client.fail("no answer to CreateTopics within " + std::to_string(client.timeout_ms)
                + " ms (are the brokers up?)");
  if (rd_kafka_event_error(event))
    client.fail(std::string{"cannot create the topic: "} + rd_kafka_event_error_string(event));
  size_t count = 0;
  const auto* const* results =
    rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
  for (size_t i = 0; i < count; ++i) {
    auto err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
      continue;
    client.topic = rd_kafka_topic_result_name(results[i]);
    const char* why = rd_kafka_topic_result_error_string(results[i]);
    client.fail(std::string{"cannot create the topic: "} + (why ? why : rd_kafka_err2str(err)));
  }
}

} // namespace

std::vector<int32_t> ensure_topics(const properties& config, const std::vector<topic_spec>& topics,
                                   std::chrono::milliseconds timeout) {
  if (topics.empty())
    return {};
  admin_client client;
  client.topic = topics.front().name;
  client.timeout_ms = static_cast<int>(timeout.count());
  if (auto brokers = config.find("bootstrap.servers"); brokers != config.end())
    client.brokers = brokers->second;
  else
    client.fail("no bootstrap.servers given");
  std::array<char, 512> error{};
  rd_kafka_conf_t* conf = detail::configuration(config, client);
  client.handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error.data(), error.size());
  if (!client.handle) {
    rd_kafka_conf_destroy(conf);
    client.fail(std::string{"cannot create an admin client: "} + error.data());
  }
  create_topics(client, topics);
  // A topic just created reaches every broker's metadata a moment later.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<int32_t> partitions;
  for (const auto& spec : topics) {
    client.topic = spec.name;
    for (;;) {
      try {
        partitions.push_back(detail::topic_partitions(client));
        break;
      } catch (const kafka_error&) {
        if (std::chrono::steady_clock::now() >= deadline)
          throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }
  return partitions;
}

} // namespace sluice::kafka
