// SlidingEntropy: exact Shannon entropy (bits) of the last n values of one
// register, updated in O(1) per sample.
//
// With counts c_i over n values, H = log2 n - S / n where S = sum c_i log2 c_i.
// Each push changes at most two counts, so S changes by two table lookups.
// S is kept in fixed point (c log2 c scaled by 2^32, rounded once per table
// entry): adding and removing the same integers cancels exactly, so S never
// drifts, however long the stream, and the result is bit-for-bit
// deterministic. Counts live in a small open-addressing table (linear
// probing, backward-shift deletion) sized for the window, which stays in L1.
// Thread-safety: none; one owner.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

namespace crv {

class SlidingEntropy {
 public:
  static constexpr uint32_t kMaxWindow = 1u << 16;

  explicit SlidingEntropy(uint32_t window) : window_(window < 1 ? 1 : (window > kMaxWindow ? kMaxWindow : window)) {
    ring_.assign(window_, 0);
    uint32_t cap = 8;
    while (cap < 2 * window_) cap <<= 1;
    mask_ = cap - 1;
    keys_.assign(cap, 0);
    counts_.assign(cap, 0);
  }

  uint32_t window() const { return window_; }
  uint32_t size() const { return size_; }
  uint32_t distinct() const { return distinct_; }

  void Push(uint64_t v) {
    if (size_ == window_) {
      const uint64_t old = ring_[head_];
      ring_[head_] = v;
      head_ = head_ + 1 == window_ ? 0 : head_ + 1;
      if (old == v) return;  // counts unchanged: the common case for an idle VM
      Decrement(old);
    } else {
      ring_[head_] = v;
      head_ = head_ + 1 == window_ ? 0 : head_ + 1;
      ++size_;
    }
    Increment(v);
  }

  double Bits() const {
    if (distinct_ <= 1) return 0.0;  // exact, not rounding noise
    const double h =
        std::log2(static_cast<double>(size_)) - static_cast<double>(s_fixed_) / kScale / static_cast<double>(size_);
    return h < 1e-12 ? 0.0 : h;
  }

  void Reset() {
    size_ = head_ = distinct_ = 0;
    s_fixed_ = 0;
    std::fill(counts_.begin(), counts_.end(), 0);
  }

  static constexpr double kScale = 4294967296.0;  // 2^32

  // c * log2(c) * 2^32, rounded; c in [0, kMaxWindow].
  static int64_t CLogC(uint32_t c) { return Table()[c]; }

 private:
  static const int64_t* Table() {
    static const std::unique_ptr<int64_t[]> table = [] {
      std::unique_ptr<int64_t[]> t(new int64_t[kMaxWindow + 1]);
      t[0] = 0;
      for (uint32_t c = 1; c <= kMaxWindow; ++c) {
        t[c] = std::llround(static_cast<double>(c) * std::log2(static_cast<double>(c)) * kScale);
      }
      return t;
    }();
    return table.get();
  }

  uint32_t Slot(uint64_t v) const { return static_cast<uint32_t>((v * 0x9E3779B97F4A7C15ull) >> 32) & mask_; }

  void Increment(uint64_t v) {
    uint32_t i = Slot(v);
    while (counts_[i] != 0 && keys_[i] != v) i = (i + 1) & mask_;
    const uint32_t c = counts_[i];
    if (c == 0) {
      keys_[i] = v;
      ++distinct_;
    }
    counts_[i] = c + 1;
    const int64_t* t = Table();
    s_fixed_ += t[c + 1] - t[c];
  }

  void Decrement(uint64_t v) {
    uint32_t i = Slot(v);
    while (keys_[i] != v || counts_[i] == 0) i = (i + 1) & mask_;
    const uint32_t c = counts_[i];
    const int64_t* t = Table();
    s_fixed_ += t[c - 1] - t[c];
    if (c > 1) {
      counts_[i] = c - 1;
      return;
    }
    --distinct_;
    // Backward-shift deletion keeps every probe chain unbroken.
    counts_[i] = 0;
    uint32_t j = i;
    for (;;) {
      j = (j + 1) & mask_;
      if (counts_[j] == 0) return;
      const uint32_t home = Slot(keys_[j]);
      // Move j back to i when its home is not in (i, j] (cyclically).
      if (((j - home) & mask_) >= ((j - i) & mask_)) {
        keys_[i] = keys_[j];
        counts_[i] = counts_[j];
        counts_[j] = 0;
        i = j;
      }
    }
  }

  uint32_t window_;
  uint32_t mask_ = 0;
  uint32_t size_ = 0, head_ = 0, distinct_ = 0;
  int64_t s_fixed_ = 0;
  std::vector<uint64_t> ring_;
  std::vector<uint64_t> keys_;
  std::vector<uint32_t> counts_;
};

}  // namespace crv
