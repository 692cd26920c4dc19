#include "operators/sliding_entropy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <map>
#include <random>
#include <set>

namespace crv {
namespace {

double NaiveBits(const std::deque<uint64_t>& w) {
  if (w.size() <= 1) return 0;
  std::map<uint64_t, int> counts;
  for (uint64_t v : w) ++counts[v];
  double h = 0;
  for (auto& [v, c] : counts) {
    const double p = static_cast<double>(c) / static_cast<double>(w.size());
    h -= p * std::log2(p);
  }
  return h;
}

TEST(SlidingEntropyTest, MatchesNaiveRecomputeOnRandomStreams) {
  std::mt19937_64 rng(42);
  for (uint32_t window : {1u, 2u, 3u, 7u, 25u, 64u, 100u}) {
    for (uint64_t alphabet : {1ull, 2ull, 5ull, 30ull, 1000ull, ~0ull}) {
      SlidingEntropy e(window);
      std::deque<uint64_t> naive;
      for (int i = 0; i < 3000; ++i) {
        // Runs of repeated values, like real registers, and fresh values.
        const uint64_t v = (rng() % 4 == 0 && !naive.empty()) ? naive.back() : rng() % alphabet;
        e.Push(v);
        naive.push_back(v);
        if (naive.size() > window) naive.pop_front();
        ASSERT_NEAR(e.Bits(), NaiveBits(naive), 1e-9) << "window " << window << " alphabet " << alphabet << " i " << i;
        ASSERT_EQ(e.size(), naive.size());
        ASSERT_EQ(e.distinct(), std::set<uint64_t>(naive.begin(), naive.end()).size());
      }
    }
  }
}

TEST(SlidingEntropyTest, WindowEdges) {
  SlidingEntropy e(4);
  EXPECT_EQ(e.Bits(), 0.0);  // empty
  e.Push(1);
  EXPECT_EQ(e.Bits(), 0.0);  // one value
  e.Push(2);
  EXPECT_DOUBLE_EQ(e.Bits(), 1.0);  // filling: 2 distinct of 2
  e.Push(3);
  e.Push(4);
  EXPECT_DOUBLE_EQ(e.Bits(), 2.0);  // full: 4 distinct of 4
  e.Push(4);                        // evicts 1: {2,3,4,4}
  EXPECT_NEAR(e.Bits(), 1.5, 1e-12);
  for (int i = 0; i < 4; ++i) e.Push(9);
  EXPECT_EQ(e.Bits(), 0.0);  // constant window is exactly zero
  EXPECT_EQ(e.distinct(), 1u);
  e.Reset();
  EXPECT_EQ(e.size(), 0u);
  e.Push(5);
  e.Push(6);
  EXPECT_DOUBLE_EQ(e.Bits(), 1.0);
}

TEST(SlidingEntropyTest, NoDriftOverMillionsOfUpdates) {
  std::mt19937_64 rng(7);
  SlidingEntropy e(50);
  std::deque<uint64_t> naive;
  for (int i = 0; i < 2'000'000; ++i) {
    const uint64_t v = rng() % 37;
    e.Push(v);
    naive.push_back(v);
    if (naive.size() > 50) naive.pop_front();
  }
  EXPECT_NEAR(e.Bits(), NaiveBits(naive), 1e-9);
  // A constant tail brings it back to exactly zero, not to rounding noise.
  for (int i = 0; i < 50; ++i) e.Push(3);
  EXPECT_EQ(e.Bits(), 0.0);
}

TEST(SlidingEntropyTest, CollidingKeysSurviveDeletion) {
  // Values chosen to share hash slots stress backward-shift deletion.
  SlidingEntropy e(16);
  std::deque<uint64_t> naive;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 20000; ++i) {
    const uint64_t v = (rng() % 24) << 40;
    e.Push(v);
    naive.push_back(v);
    if (naive.size() > 16) naive.pop_front();
    ASSERT_NEAR(e.Bits(), NaiveBits(naive), 1e-9) << i;
  }
}

}  // namespace
}  // namespace crv
