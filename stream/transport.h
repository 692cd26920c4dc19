// FrameTransport: how frame batches travel from collectors to operators.
// Two implementations: InProcTransport (the embedded default: one host, no
// broker) and, for scale-out, Kafka. Both pass one conformance suite.
//
// Contract:
// - Publish(key, payload) enqueues one message (a size-prefixed FrameBatch);
//   messages with the same key (VM id) are delivered in publish order.
// - A full transport is backpressure, never a silent drop: Publish blocks up
//   to its time-out and then fails with kResourceExhausted — unless a drop
//   policy is configured, in which case every drop is counted in stats().
// - Poll() returns the next message, nullopt on time-out, or kClosed once the
//   transport was closed and everything published before was delivered.
// - Commit(msg) acknowledges a message as fully processed (at-least-once:
//   transports that persist offsets store them only here).
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace crv {

struct StreamMessage {
  std::string key;
  std::vector<uint8_t> payload;
  uint64_t offset = 0;    // position in the transport, increasing per key
  int32_t partition = 0;  // Kafka: the partition it came from (in-process: 0)
};

struct TransportStats {
  uint64_t published = 0;
  uint64_t delivered = 0;
  uint64_t committed = 0;
  uint64_t dropped = 0;           // by a configured drop policy
  uint64_t publish_blocked = 0;   // Publish calls that had to wait
  uint64_t publish_timeouts = 0;  // Publish calls that gave up (not enqueued)
  uint64_t queued = 0;            // in the transport now
  uint64_t delivery_errors = 0;   // Kafka: messages whose delivery report was an error (lost)
  uint64_t consume_errors = 0;    // Kafka: errors reported while consuming
};

class FrameTransport {
 public:
  virtual ~FrameTransport() = default;
  virtual Status Publish(std::string_view key, std::vector<uint8_t> payload, std::chrono::milliseconds timeout) = 0;
  virtual Result<std::optional<StreamMessage>> Poll(std::chrono::milliseconds timeout) = 0;
  virtual void Commit(const StreamMessage& message) = 0;
  // No more publishing; consumers drain what is queued, then get kClosed.
  virtual void Close() = 0;
  virtual TransportStats stats() const = 0;
};

}  // namespace crv
