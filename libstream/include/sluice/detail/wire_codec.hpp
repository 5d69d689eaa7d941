#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace sluice {
template <class T>
struct record;
} // namespace sluice

namespace sluice::detail {

// The records of a batch that crosses to another node, as one block of bytes. CAF's inspector
// writes and reads a record field by field, each step a virtual call that returns a caf::error
// built and destroyed out of line: profiled on three nodes, that was most of what a crossing
// record cost. For the types records mostly are (numbers, strings, and pairs, tuples and
// optionals of them) a batch writes its records itself, in one pass, into one block that CAF
// copies as raw bytes. Numbers go as the machine's little-endian bytes; other machines (none
// that Sluice runs on today) and other types take CAF's way.

template <class T>
inline constexpr bool wire_codable_v = std::is_arithmetic_v<T> || std::is_enum_v<T>;

template <>
inline constexpr bool wire_codable_v<std::string> = true;

template <class A, class B>
inline constexpr bool wire_codable_v<std::pair<A, B>> = wire_codable_v<A>&& wire_codable_v<B>;

template <class... Ts>
inline constexpr bool wire_codable_v<std::tuple<Ts...>> = (wire_codable_v<Ts> && ...);

template <class T>
inline constexpr bool wire_codable_v<std::optional<T>> = wire_codable_v<T>;

/// Record values a batch encodes itself on the wire.
template <class T>
concept wire_codable = std::endian::native == std::endian::little&& wire_codable_v<T>;

/// Appends values to a block.
class wire_writer {
public:
  explicit wire_writer(std::vector<char>& out) : out_(&out) {}

  void write_count(uint64_t n) {
    while (n >= 0x80) {
      out_->push_back(static_cast<char>(n | 0x80));
      n >>= 7;
    }
    out_->push_back(static_cast<char>(n));
  }

  template <class T>
  void write(const T& value) {
    if constexpr (std::is_arithmetic_v<T> || std::is_enum_v<T>) {
      append(&value, sizeof(T));
    } else if constexpr (std::is_same_v<T, std::string>) {
      write_count(value.size());
      append(value.data(), value.size());
    } else if constexpr (requires { value.has_value(); }) {
      write(value.has_value());
      if (value)
        write(*value);
    } else {
      std::apply([&](const auto&... parts) { (write(parts), ...); }, value);
    }
  }

private:
  void append(const void* data, size_t size) {
    auto at = out_->size();
    out_->resize(at + size);
    std::memcpy(out_->data() + at, data, size);
  }

  std::vector<char>* out_;
};

/// Reads what a wire_writer wrote; every read is false once the block is short.
class wire_reader {
public:
  wire_reader(const char* data, size_t size) : at_(data), end_(data + size) {}

  [[nodiscard]] bool read_count(uint64_t& n) {
    n = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_ == end_)
        return false;
      auto byte = static_cast<uint8_t>(*at_++);
      n |= uint64_t{byte & 0x7fu} << shift;
      if (byte < 0x80)
        return true;
    }
    return false;
  }

  template <class T>
  [[nodiscard]] bool read(T& value) {
    if constexpr (std::is_same_v<T, bool>) {
      // Any other byte would be a bool with no valid value.
      uint8_t byte = 0;
      if (!take(&byte, 1) || byte > 1)
        return false;
      value = byte == 1;
      return true;
    } else if constexpr (std::is_arithmetic_v<T> || std::is_enum_v<T>) {
      return take(&value, sizeof(T));
    } else if constexpr (std::is_same_v<T, std::string>) {
      uint64_t size = 0;
      if (!read_count(size) || size > remaining())
        return false;
      value.assign(at_, size);
      at_ += size;
      return true;
    } else if constexpr (requires { value.has_value(); }) {
      bool present = false;
      if (!read(present))
        return false;
      if (!present) {
        value.reset();
        return true;
      }
      return read(value.emplace());
    } else {
      return std::apply([&](auto&... parts) { return (read(parts) && ...); }, value);
    }
  }

  [[nodiscard]] size_t remaining() const noexcept { return static_cast<size_t>(end_ - at_); }

private:
  bool take(void* out, size_t size) {
    if (size > remaining())
      return false;
    std::memcpy(out, at_, size);
    at_ += size;
    return true;
  }

  const char* at_;
  const char* end_;
};

/// Writes `records` to `out` (emptied first): their count, then each value and timestamp.
template <wire_codable T>
void wire_encode(std::vector<char>& out, const std::vector<record<T>>& records) {
  out.clear();
  wire_writer w{out};
  w.write_count(records.size());
  for (const auto& r : records) {
    w.write(r.value);
    w.write(r.time);
  }
}

/// Reads the records `wire_encode` wrote into `records`; false if `block` is not exactly that.
template <wire_codable T>
[[nodiscard]] bool wire_decode(const std::vector<char>& block, std::vector<record<T>>& records) {
  wire_reader r{block.data(), block.size()};
  uint64_t count = 0;
  // Each record takes at least its timestamp's bytes: a larger count is a malformed block,
  // not a reason to reserve memory for it.
  if (!r.read_count(count) || count > r.remaining() / sizeof(int64_t))
    return false;
  records.clear();
  records.resize(count);
  for (auto& rec : records)
    if (!r.read(rec.value) || !r.read(rec.time))
      return false;
  return r.remaining() == 0;
}

} // namespace sluice::detail
