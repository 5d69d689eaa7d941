#pragma once

// A packet capture on the loopback interface, as tcpdump would take it: an AF_PACKET socket
// (root, or CAP_NET_RAW) read on a thread of its own, counting the packets that carry a marker
// in clear. For tests that check what crosses between processes on 127.0.0.1 encrypted.

#include <arpa/inet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <linux/if_packet.h>

#include "support/test_support.hpp"

namespace sluice::test {

class loopback_capture {
public:
  /// Starts capturing every packet on `lo`, or reports the running test skipped (test::skip)
  /// and returns null if this process may not open a packet socket.
  static std::unique_ptr<loopback_capture> start_or_skip(std::string marker) {
    int fd = ::socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    if (fd < 0) {
      skip(std::string{"cannot capture packets on the loopback interface (needs root or "
                       "CAP_NET_RAW): "}
           + std::strerror(errno));
      return nullptr;
    }
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETH_P_ALL);
    address.sll_ifindex = static_cast<int>(if_nametoindex("lo"));
    // A large buffer, so that no packet is dropped while the reader is behind.
    int buffer = 64 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
    timeval wait{0, 100'000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    if (address.sll_ifindex == 0
        || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      skip(std::string{"cannot capture on the loopback interface: "} + std::strerror(errno));
      ::close(fd);
      return nullptr;
    }
    return std::unique_ptr<loopback_capture>{new loopback_capture{fd, std::move(marker)}};
  }

  ~loopback_capture() {
    running_ = false;
    reader_.join();
    ::close(fd_);
  }

  loopback_capture(const loopback_capture&) = delete;
  loopback_capture& operator=(const loopback_capture&) = delete;

  /// Packets captured so far, and those of them that carry the marker.
  [[nodiscard]] uint64_t packets() const noexcept { return packets_; }
  [[nodiscard]] uint64_t marked_packets() const noexcept { return marked_; }

  /// Packets the kernel dropped because the reader was behind (they were not looked at).
  [[nodiscard]] uint64_t dropped() const {
    collect_drops();
    return dropped_;
  }

  /// Starts counting anew.
  void reset() {
    packets_ = 0;
    marked_ = 0;
    collect_drops();
    dropped_ = 0;
  }

private:
  loopback_capture(int fd, std::string marker) : fd_(fd), marker_(std::move(marker)) {
    reader_ = std::thread{[this] { read(); }};
  }

  /// Adds the kernel's count of dropped packets since the last call (reading it resets it).
  void collect_drops() const {
    tpacket_stats stats{};
    socklen_t size = sizeof stats;
    if (::getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &stats, &size) == 0)
      dropped_ += stats.tp_drops;
  }

  void read() {
    std::vector<char> packet(1 << 16);
    while (running_) {
      auto n = ::recv(fd_, packet.data(), packet.size(), 0);
      if (n <= 0)
        continue; // the receive timeout, to look at running_
      ++packets_;
      if (std::string_view{packet.data(), static_cast<size_t>(n)}.find(marker_)
          != std::string_view::npos)
        ++marked_;
    }
  }

  int fd_;
  std::string marker_;
  std::atomic<bool> running_{true};
  std::atomic<uint64_t> packets_{0};
  std::atomic<uint64_t> marked_{0};
  mutable uint64_t dropped_ = 0;
  std::thread reader_;
};

} // namespace sluice::test
