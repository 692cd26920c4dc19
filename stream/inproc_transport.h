// InProcTransport: a bounded in-process queue implementing FrameTransport.
// One FIFO for all keys, so per-key order holds trivially.
//
// Overflow policy when the queue holds `capacity` messages:
//   kBlock      Publish waits (backpressure), then fails after its time-out;
//   kDropOldest the oldest queued message is discarded (counted);
//   kDropNewest the new message is discarded (counted).
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>

#include "stream/transport.h"

namespace crv {

enum class OverflowPolicy { kBlock, kDropOldest, kDropNewest };

class InProcTransport final : public FrameTransport {
 public:
  explicit InProcTransport(size_t capacity = 1024, OverflowPolicy policy = OverflowPolicy::kBlock);

  Status Publish(std::string_view key, std::vector<uint8_t> payload, std::chrono::milliseconds timeout) override;
  Result<std::optional<StreamMessage>> Poll(std::chrono::milliseconds timeout) override;
  void Commit(const StreamMessage& message) override;
  void Close() override;
  TransportStats stats() const override;

 private:
  const size_t capacity_;
  const OverflowPolicy policy_;
  mutable std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<StreamMessage> queue_;
  bool closed_ = false;
  uint64_t next_offset_ = 0;
  TransportStats stats_;
};

}  // namespace crv
