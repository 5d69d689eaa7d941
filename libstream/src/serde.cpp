#include "sluice/serde.hpp"

#include <cctype>

namespace sluice::detail {

std::string excerpt(std::string_view bytes) {
  constexpr size_t shown = 64;
  std::string text = "'";
  for (char c : bytes.substr(0, shown))
    text += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  text += bytes.size() > shown ? "'... (" + std::to_string(bytes.size()) + " bytes)" : "'";
  return text;
}

boost::json::value parse_json(std::string_view bytes) {
  boost::json::stream_parser parser;
  boost::system::error_code ec;
  auto used = parser.write_some(bytes.data(), bytes.size(), ec);
  if (!ec && used < bytes.size())
    ec = boost::json::error::extra_data;
  if (!ec)
    parser.finish(ec);
  if (ec)
    throw serde_error("malformed JSON at byte " + std::to_string(used) + ": " + ec.message()
                      + " in " + excerpt(bytes));
  return parser.release();
}

} // namespace sluice::detail
