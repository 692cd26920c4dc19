// Status and Result<T>: how every fallible crv call reports failure.
//
// Contract: functions that can fail return Status or Result<T> and are
// [[nodiscard]]; no exception crosses a module boundary on the data path.
// A Status carries a code (what kind of failure, so callers can decide to
// retry) and a message that names the problem and where it happened.
// Thread-safety: plain values; copy freely.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace crv {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // bad input from the caller or from outside (config, file, frame)
  kNotFound,           // a file, socket or VM that does not exist
  kUnavailable,        // a peer refused or went away (QEMU died, socket refused); may retry
  kDeadlineExceeded,   // a time-out
  kResourceExhausted,  // a bounded queue is full
  kDataLoss,           // truncated or corrupt data
  kClosed,             // the stream or connection was closed in an orderly way
  kInternal,           // a bug or an unexpected system error
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "<code>: <message>", or "ok".
  std::string ToString() const;
  // Prefixes the message with where the failure happened ("reading x.crvf: ...").
  Status WithContext(const std::string& where) const;
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status Closed(std::string m) { return {StatusCode::kClosed, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
// The errno text of a failed system call, as "what: strerror".
Status ErrnoStatus(StatusCode code, const std::string& what, int err);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok() && "a Result holding a Status must hold an error");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & {
    assert(ok());
    return std::get<T>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace crv

#define CRV_CONCAT_INNER(a, b) a##b
#define CRV_CONCAT(a, b) CRV_CONCAT_INNER(a, b)

// Returns early from the enclosing function when `expr` (a Status) fails.
#define CRV_RETURN_IF_ERROR(expr)    \
  do {                               \
    ::crv::Status _crv_s = (expr);   \
    if (!_crv_s.ok()) return _crv_s; \
  } while (0)

// `lhs = value of expr` (a Result<T>), or return its Status.
#define CRV_ASSIGN_OR_RETURN(lhs, expr) CRV_ASSIGN_OR_RETURN_IMPL(CRV_CONCAT(_crv_r_, __LINE__), lhs, expr)
#define CRV_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
