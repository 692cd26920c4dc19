#include "core/clock.h"

#include <cerrno>
#include <ctime>

namespace crv {
namespace {
int64_t Read(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
}  // namespace

int64_t RealClock::MonotonicNs() const { return Read(CLOCK_MONOTONIC); }
int64_t RealClock::WallNs() const { return Read(CLOCK_REALTIME); }

void RealClock::SleepUntil(int64_t deadline_ns) {
  timespec ts{static_cast<time_t>(deadline_ns / 1'000'000'000), static_cast<long>(deadline_ns % 1'000'000'000)};
  // Absolute deadlines do not drift when a sleep is interrupted and resumed.
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

RealClock& RealClock::Instance() {
  static RealClock clock;
  return clock;
}

}  // namespace crv
