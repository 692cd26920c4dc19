#include "collectors/qemu/qmp_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/clock.h"

namespace crv {

void QmpReader::Feed(const char* data, size_t n) { buf_.append(data, n); }

Result<std::optional<nlohmann::json>> QmpReader::Next() {
  const size_t nl = buf_.find('\n', scan_from_);
  if (nl == std::string::npos) {
    scan_from_ = buf_.size();
    if (buf_.size() > kMaxLineBytes) {
      const size_t n = buf_.size();
      buf_.clear();
      scan_from_ = 0;
      return InvalidArgument("QMP message longer than " + std::to_string(kMaxLineBytes) + " bytes (" +
                             std::to_string(n) + " bytes without a newline); discarded");
    }
    return std::optional<nlohmann::json>();
  }
  std::string line = buf_.substr(0, nl);
  buf_.erase(0, nl + 1);
  scan_from_ = 0;
  if (line.size() > kMaxLineBytes) {
    return InvalidArgument("QMP message longer than " + std::to_string(kMaxLineBytes) + " bytes; discarded");
  }
  auto msg = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (msg.is_discarded()) {
    const std::string head = line.substr(0, 80);
    return InvalidArgument("QMP message is not valid JSON: \"" + head + (line.size() > 80 ? "...\"" : "\""));
  }
  if (!msg.is_object()) return InvalidArgument("QMP message is not a JSON object");
  return std::optional<nlohmann::json>(std::move(msg));
}

Result<std::unique_ptr<QmpClient>> QmpClient::Connect(const std::string& socket_path, Millis timeout) {
  sockaddr_un addr{};
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    return InvalidArgument("QMP socket path is too long (" + std::to_string(socket_path.size()) +
                           " bytes, the limit is " + std::to_string(sizeof(addr.sun_path) - 1) + "): " + socket_path);
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(StatusCode::kInternal, "socket(AF_UNIX)", errno);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    close(fd);
    return ErrnoStatus(err == ENOENT ? StatusCode::kNotFound : StatusCode::kUnavailable,
                       "cannot connect to QMP socket " + socket_path, err);
  }
  std::unique_ptr<QmpClient> client(new QmpClient(fd, socket_path));
  const int64_t deadline = RealClock::Instance().MonotonicNs() + timeout.count() * 1'000'000;
  CRV_ASSIGN_OR_RETURN(client->greeting_, client->ReadMessage(deadline, "the QMP greeting"));
  if (!client->greeting_.contains("QMP")) {
    return Unavailable("peer on " + socket_path + " is not a QMP server (no greeting)");
  }
  CRV_ASSIGN_OR_RETURN(auto caps, client->Execute("qmp_capabilities", nullptr, timeout));
  (void)caps;
  return client;
}

QmpClient::~QmpClient() {
  if (fd_ >= 0) close(fd_);
}

Status QmpClient::Dead() const { return Unavailable("QMP connection to " + path_ + " is gone: " + dead_reason_); }

Status QmpClient::WriteAll(const std::string& data) {
  if (!dead_reason_.empty()) return Dead();
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      dead_reason_ = std::string("write failed: ") + std::strerror(errno) + " (did QEMU exit?)";
      return Dead();
    }
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Result<nlohmann::json> QmpClient::ReadMessage(int64_t deadline_ns, std::string_view waiting_for) {
  for (;;) {
    auto next = reader_.Next();
    if (!next.ok()) {
      ++malformed_;
      continue;  // A malformed line is skipped; the stream goes on.
    }
    if (next->has_value()) return std::move(**next);
    if (!dead_reason_.empty()) return Dead();
    const int64_t now = RealClock::Instance().MonotonicNs();
    if (now >= deadline_ns)
      return DeadlineExceeded("timed out waiting for " + std::string(waiting_for) + " on " + path_);
    pollfd p{fd_, POLLIN, 0};
    const int wait_ms = static_cast<int>((deadline_ns - now + 999'999) / 1'000'000);
    int r = poll(&p, 1, wait_ms);
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(StatusCode::kInternal, "poll on QMP socket", errno);
    }
    if (r == 0) continue;
    char buf[65536];
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      dead_reason_ = std::string("read failed: ") + std::strerror(errno) + " (did QEMU exit?)";
      return Dead();
    }
    if (n == 0) {
      dead_reason_ = "QEMU closed the connection (did it exit?)";
      return Dead();
    }
    reader_.Feed(buf, static_cast<size_t>(n));
  }
}

void QmpClient::QueueEvent(const nlohmann::json& msg) {
  QmpEvent ev;
  ev.name = msg.value("event", "");
  if (msg.contains("data")) ev.data = msg["data"];
  if (msg.contains("timestamp") && msg["timestamp"].is_object()) {
    const auto& ts = msg["timestamp"];
    ev.timestamp_us = ts.value("seconds", int64_t{0}) * 1'000'000 + ts.value("microseconds", int64_t{0});
  }
  if (events_.size() >= kMaxQueuedEvents) {
    events_.pop_front();
    ++events_dropped_;
  }
  events_.push_back(std::move(ev));
}

Result<nlohmann::json> QmpClient::Execute(std::string_view command, const nlohmann::json& arguments, Millis timeout) {
  const uint64_t id = next_id_++;
  nlohmann::json req = {{"execute", command}, {"id", id}};
  if (!arguments.is_null()) req["arguments"] = arguments;
  CRV_RETURN_IF_ERROR(WriteAll(req.dump() + "\n"));
  const int64_t deadline = RealClock::Instance().MonotonicNs() + timeout.count() * 1'000'000;
  const std::string what = "the reply to QMP command " + std::string(command);
  for (;;) {
    CRV_ASSIGN_OR_RETURN(nlohmann::json msg, ReadMessage(deadline, what));
    if (msg.contains("event")) {
      QueueEvent(msg);
      continue;
    }
    // Replies to earlier commands that timed out carry other ids: skip them.
    if (!msg.contains("id") || msg["id"] != id) continue;
    if (msg.contains("return")) return std::move(msg["return"]);
    if (msg.contains("error")) {
      const auto& e = msg["error"];
      return InvalidArgument("QMP command " + std::string(command) + " failed: " + e.value("class", "?") + ": " +
                             e.value("desc", "?"));
    }
    ++malformed_;
  }
}

Result<std::string> QmpClient::HumanMonitorCommand(std::string_view command_line, Millis timeout) {
  CRV_ASSIGN_OR_RETURN(nlohmann::json r, Execute("human-monitor-command", {{"command-line", command_line}}, timeout));
  if (!r.is_string()) return InvalidArgument("human-monitor-command returned a non-string reply");
  return r.get<std::string>();
}

std::deque<QmpEvent> QmpClient::TakeEvents() {
  std::deque<QmpEvent> out;
  out.swap(events_);
  return out;
}

Result<std::optional<QmpEvent>> QmpClient::WaitEvent(Millis timeout) {
  if (events_.empty()) {
    const int64_t deadline = RealClock::Instance().MonotonicNs() + timeout.count() * 1'000'000;
    for (;;) {
      auto msg = ReadMessage(deadline, "a QMP event");
      if (!msg.ok()) {
        if (msg.status().code() == StatusCode::kDeadlineExceeded) return std::optional<QmpEvent>();
        return msg.status();
      }
      if (msg->contains("event")) {
        QueueEvent(*msg);
        break;
      }
    }
  }
  QmpEvent ev = std::move(events_.front());
  events_.pop_front();
  return std::optional<QmpEvent>(std::move(ev));
}

}  // namespace crv
