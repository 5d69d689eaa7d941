// Totals payments per customer into a changelog topic, exactly once (Kafka Streams'
// groupByKey().aggregate() into a KTable), then prints the table the changelog describes.
//
// Usage: kafka_aggregate [--brokers HOST:PORT]
// Without --brokers it runs on an in-process mock cluster; a real cluster needs topics
// `payments` and `totals` (a compacted topic, as a KTable's changelog is).

#include <cstdint>
#include <iostream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "kafka_demo.hpp"

/// Sum and count of a customer's payments, the accumulator and result of the aggregation.
struct total {
  int64_t cents = 0;
  int64_t payments = 0;
};

// How LMDB state stores a total (CAF's inspector).
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, total& t) {
  return f(caf::meta::type_name("total"), t.cents, t.payments);
}

// How Kafka messages carry a total (JSON through Boost.JSON).
void tag_invoke(boost::json::value_from_tag, boost::json::value& v, const total& t) {
  v = {{"cents", t.cents}, {"payments", t.payments}};
}

total tag_invoke(boost::json::value_to_tag<total>, const boost::json::value& v) {
  const auto& o = v.as_object();
  return {boost::json::value_to<int64_t>(o.at("cents")),
          boost::json::value_to<int64_t>(o.at("payments"))};
}

/// Flink's AggregateFunction: create, add, result (and merge, so batch runs can pre-aggregate).
struct sum_payments {
  using input_type = std::pair<std::string, int64_t>;
  using accumulator_type = total;
  using result_type = total;

  total create() const { return {}; }
  void add(total& acc, const input_type& payment) const {
    acc.cents += payment.second;
    ++acc.payments;
  }
  void merge(total& acc, total&& other) const {
    acc.cents += other.cents;
    acc.payments += other.payments;
  }
  total result(const total& acc) const { return acc; }
};

int main(int argc, char** argv) {
  auto kafka = demo::connect(argc, argv, "kafka_aggregate [--brokers HOST:PORT]",
                             {{"payments", 3}, {"totals", 3}});
  // Payments keyed by customer: the message key is the customer, the value the amount.
  std::vector<std::pair<std::string, int64_t>> payments;
  for (int i = 0; i < 30; ++i)
    payments.emplace_back("customer-" + std::to_string(i % 4), 100 * (i + 1));
  demo::fill(kafka, "payments", payments, sluice::string_serde{}, sluice::json_serde<int64_t>{});

  auto changelog = demo::writing(kafka, "totals");
  changelog.delivery = sluice::kafka_delivery::exactly_once;
  sluice::pipeline p{"totals"};
  p.source(sluice::kafka_source(demo::reading(kafka, "payments", "totals"), sluice::string_serde{},
                                sluice::json_serde<int64_t>{}))
    .parallelism(3)
    .key_by([](const std::pair<std::string, int64_t>& payment) { return payment.first; })
    .aggregate(sum_payments{})
    .parallelism(2)
    .sink(sluice::kafka_sink(changelog, sluice::string_serde{}, sluice::json_serde<total>{}));
  sluice::runtime_config config;
  config.mode = sluice::execution_mode::streaming; // an update per payment, as a KTable emits
  config.checkpoint_interval = std::chrono::milliseconds{200};
  sluice::runtime rt{config};
  demo::check(rt.run(p));

  // The table: the last update of each key wins.
  auto updates =
    demo::read_all(kafka, "totals", sluice::string_serde{}, sluice::json_serde<total>{});
  std::map<std::string, total> table;
  for (auto& [customer, t] : updates)
    table[customer] = t;
  std::cout << updates.size() << " changelog updates; the table:\n";
  for (const auto& [customer, t] : table)
    std::cout << "  " << customer << ": " << t.payments << " payments, " << t.cents << " cents\n";
  return 0;
}
