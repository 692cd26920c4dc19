// QmpClient: a QEMU Machine Protocol client over a UNIX socket.
//
// Contract: Connect() reads the greeting and negotiates capabilities; every
// command has a time-out; asynchronous events that arrive while waiting for a
// reply are queued (bounded; overflow drops the oldest and is counted) and
// handed out by TakeEvents()/WaitEvent(). When QEMU dies or closes the socket,
// every later call fails with kUnavailable and a message that says so.
// Thread-safety: not thread-safe; one thread owns a client.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace crv {

using Millis = std::chrono::milliseconds;

// Splits the byte stream from QEMU into JSON messages (one per line) and
// parses them. Fed from the socket; also the fuzzing entry point.
class QmpReader {
 public:
  static constexpr size_t kMaxLineBytes = 8u << 20;

  void Feed(const char* data, size_t n);
  // The next complete message; nullopt when more bytes are needed. A line
  // that is not a JSON object, or one longer than kMaxLineBytes, is an error
  // (kInvalidArgument) and is consumed, so the next call goes on after it.
  Result<std::optional<nlohmann::json>> Next();

 private:
  std::string buf_;
  size_t scan_from_ = 0;
};

struct QmpEvent {
  std::string name;
  nlohmann::json data;
  int64_t timestamp_us = 0;
};

class QmpClient {
 public:
  static Result<std::unique_ptr<QmpClient>> Connect(const std::string& socket_path, Millis timeout = Millis(5000));
  ~QmpClient();
  QmpClient(const QmpClient&) = delete;
  QmpClient& operator=(const QmpClient&) = delete;

  // Runs a QMP command; returns its "return" value, or the QMP error as
  // kInvalidArgument ("QMP command X failed: Class: description").
  Result<nlohmann::json> Execute(std::string_view command, const nlohmann::json& arguments = nullptr,
                                 Millis timeout = Millis(5000));
  // human-monitor-command: the HMP reply text.
  Result<std::string> HumanMonitorCommand(std::string_view command_line, Millis timeout = Millis(5000));

  // Events received so far (and clears them).
  std::deque<QmpEvent> TakeEvents();
  // Waits for the next event; nullopt on time-out.
  Result<std::optional<QmpEvent>> WaitEvent(Millis timeout);

  const nlohmann::json& greeting() const { return greeting_; }
  const std::string& socket_path() const { return path_; }
  uint64_t events_dropped() const { return events_dropped_; }
  uint64_t malformed_messages() const { return malformed_; }

  static constexpr size_t kMaxQueuedEvents = 1024;

 private:
  QmpClient(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  // Reads one message, waiting until `deadline_ns` (monotonic).
  Result<nlohmann::json> ReadMessage(int64_t deadline_ns, std::string_view waiting_for);
  Status WriteAll(const std::string& data);
  void QueueEvent(const nlohmann::json& msg);
  Status Dead() const;

  int fd_;
  std::string path_;
  QmpReader reader_;
  nlohmann::json greeting_;
  std::deque<QmpEvent> events_;
  uint64_t next_id_ = 1;
  uint64_t events_dropped_ = 0;
  uint64_t malformed_ = 0;
  std::string dead_reason_;
};

}  // namespace crv
