#include "stream/inproc_transport.h"

namespace crv {

InProcTransport::InProcTransport(size_t capacity, OverflowPolicy policy)
    : capacity_(capacity == 0 ? 1 : capacity), policy_(policy) {}

Status InProcTransport::Publish(std::string_view key, std::vector<uint8_t> payload, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (closed_) return Closed("publish on a closed transport");
  if (queue_.size() >= capacity_) {
    switch (policy_) {
      case OverflowPolicy::kDropNewest:
        ++stats_.dropped;
        return Status::Ok();
      case OverflowPolicy::kDropOldest:
        queue_.pop_front();
        ++stats_.dropped;
        break;
      case OverflowPolicy::kBlock:
        ++stats_.publish_blocked;
        if (!not_full_.wait_for(lock, timeout, [&] { return closed_ || queue_.size() < capacity_; })) {
          ++stats_.publish_timeouts;
          return ResourceExhausted("in-process queue full (" + std::to_string(capacity_) + " messages) for " +
                                   std::to_string(timeout.count()) + " ms");
        }
        if (closed_) return Closed("publish on a closed transport");
        break;
    }
  }
  queue_.push_back(StreamMessage{std::string(key), std::move(payload), next_offset_++});
  ++stats_.published;
  lock.unlock();
  not_empty_.notify_one();
  return Status::Ok();
}

Result<std::optional<StreamMessage>> InProcTransport::Poll(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (!not_empty_.wait_for(lock, timeout, [&] { return closed_ || !queue_.empty(); })) {
    return std::optional<StreamMessage>();
  }
  if (queue_.empty()) return Closed("transport closed and drained");
  StreamMessage m = std::move(queue_.front());
  queue_.pop_front();
  ++stats_.delivered;
  lock.unlock();
  not_full_.notify_one();
  return std::optional<StreamMessage>(std::move(m));
}

void InProcTransport::Commit(const StreamMessage&) {
  std::lock_guard lock(mu_);
  ++stats_.committed;
}

void InProcTransport::Close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  not_empty_.notify_all();
  not_full_.notify_all();
}

TransportStats InProcTransport::stats() const {
  std::lock_guard lock(mu_);
  TransportStats s = stats_;
  s.queued = queue_.size();
  return s;
}

}  // namespace crv
