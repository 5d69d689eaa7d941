// Reads JSON orders from a topic, keeps the large ones and writes them as JSON invoices; an order
// that is not valid JSON goes to a dead-letter topic instead of stopping the job.
//
// Usage: kafka_json [--brokers HOST:PORT]
// Without --brokers it runs on an in-process mock cluster; a real cluster needs topics `orders`,
// `invoices` and `orders-dead`.

#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "kafka_demo.hpp"

struct order {
  std::string id;
  std::string customer;
  int64_t cents = 0;
};

struct invoice {
  std::string customer;
  std::string order_id;
  int64_t cents = 0;
};

// Records may cross to another process: CAF's inspectors write them.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order& x) {
  return f(x.id, x.customer, x.cents);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, invoice& x) {
  return f(x.customer, x.order_id, x.cents);
}

// Boost.JSON conversions: json_serde<order> and json_serde<invoice> use them.
order tag_invoke(boost::json::value_to_tag<order>, const boost::json::value& v) {
  const auto& o = v.as_object();
  return {boost::json::value_to<std::string>(o.at("id")),
          boost::json::value_to<std::string>(o.at("customer")),
          boost::json::value_to<int64_t>(o.at("cents"))};
}

void tag_invoke(boost::json::value_from_tag, boost::json::value& v, const invoice& i) {
  v = {{"customer", i.customer}, {"order", i.order_id}, {"cents", i.cents}};
}

int main(int argc, char** argv) {
  auto kafka = demo::connect(argc, argv, "kafka_json [--brokers HOST:PORT]",
                             {{"orders", 2}, {"invoices", 2}, {"orders-dead", 1}});
  std::vector<std::string> orders;
  for (int i = 0; i < 8; ++i)
    orders.push_back(R"({"id": "o)" + std::to_string(i) + R"(", "customer": "c)"
                     + std::to_string(i % 3) + R"(", "cents": )" + std::to_string(i * 2500) + "}");
  orders.push_back(R"({"id": "o8", "customer": )"); // cut short: not JSON
  demo::fill(kafka, "orders", orders, sluice::string_serde{});

  sluice::pipeline p{"invoices"};
  p.source(
     sluice::kafka_source(demo::reading(kafka, "orders", "invoicing"), sluice::json_serde<order>{}))
    .name("orders")
    .on_failure(sluice::failure_policy::skip)
    .filter([](const order& o) { return o.cents >= 10'000; })
    .map([](const order& o) {
      return invoice{o.customer, o.id, o.cents};
    })
    .sink(sluice::kafka_sink(demo::writing(kafka, "invoices"), sluice::json_serde<invoice>{}));
  p.dead_letters().sink(sluice::kafka_sink(demo::writing(kafka, "orders-dead"),
                                           sluice::json_serde<sluice::dead_letter>{}));
  sluice::runtime rt;
  demo::check(rt.run(p));

  auto invoices = demo::read_all(kafka, "invoices", sluice::json_serde<>{});
  for (const auto& v : invoices)
    std::cout << "invoice: " << v << "\n";
  auto letters = demo::read_all(kafka, "orders-dead", sluice::json_serde<sluice::dead_letter>{});
  for (const auto& letter : letters)
    std::cout << "dead letter: " << letter << "\n";
  std::cout << invoices.size() << " invoices, " << letters.size() << " dead letters\n";
  return 0;
}
