// Clock: the one place crv reads time or sleeps, so window, rate and timeout
// logic can be tested deterministically with FakeClock.
//
// Monotonic time schedules work (sampling ticks, time-outs); wall time stamps
// events (a frame's sample time), so frames from many hosts line up.
// Thread-safety: RealClock is stateless; FakeClock is safe to share between
// threads (its time is atomic) but is meant for single-threaded tests.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

namespace crv {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t MonotonicNs() const = 0;
  virtual int64_t WallNs() const = 0;
  // Sleeps until MonotonicNs() >= deadline_ns (returns at once if passed).
  virtual void SleepUntil(int64_t deadline_ns) = 0;
};

class RealClock final : public Clock {
 public:
  int64_t MonotonicNs() const override;
  int64_t WallNs() const override;
  void SleepUntil(int64_t deadline_ns) override;
  static RealClock& Instance();
};

// Time moves only when told to: by Advance(), or by SleepUntil(), which jumps.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_ns = 1'000'000'000, int64_t wall_offset_ns = 1'700'000'000'000'000'000)
      : now_(start_ns), wall_offset_(wall_offset_ns) {}
  int64_t MonotonicNs() const override { return now_.load(); }
  int64_t WallNs() const override { return now_.load() + wall_offset_; }
  void SleepUntil(int64_t deadline_ns) override {
    if (deadline_ns > now_.load()) now_.store(deadline_ns);
    ++sleeps_;
  }
  void Advance(int64_t ns) { now_.fetch_add(ns); }
  int sleeps() const { return sleeps_; }

 private:
  std::atomic<int64_t> now_;
  int64_t wall_offset_;
  int sleeps_ = 0;
};

}  // namespace crv
