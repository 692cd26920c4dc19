#include "operators/entropy_graph.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/frame_fixtures.h"

namespace crv {
namespace {

std::vector<std::vector<uint8_t>> Messages(int batches, int ticks_per_batch) {
  std::vector<std::vector<uint8_t>> out;
  for (int i = 0; i < batches; ++i) {
    const char* vm = i % 3 == 0 ? "a" : (i % 3 == 1 ? "b" : "c");
    out.push_back(
        EncodeBatch(vm, "h", testing::SyntheticFrames(ticks_per_batch, 2, i, 8 + i % 5, (i / 3) * ticks_per_batch)));
  }
  return out;
}

EntropyGraph::Source From(const std::vector<std::vector<uint8_t>>& msgs) {
  auto i = std::make_shared<size_t>(0);
  return [&msgs, i]() -> std::optional<std::vector<uint8_t>> {
    if (*i == msgs.size()) return std::nullopt;
    return msgs[(*i)++];
  };
}

TEST(EntropyGraphTest, SameOutputAsTheOperatorAloneAndDeterministic) {
  const auto msgs = Messages(300, 4);
  WindowConfig wc{10, 5};
  std::vector<FeatureVector> expected;
  WindowFeatureOperator direct(wc);
  for (const auto& m : msgs) {
    FrameBatch b;
    ASSERT_TRUE(DecodeBatch(m, &b).ok());
    direct.Add(b, &expected);
  }
  ASSERT_GT(expected.size(), 100u);
  for (int run = 0; run < 3; ++run) {
    std::vector<FeatureVector> got;
    EntropyGraph g(EntropyGraphConfig{wc, 16}, [&](const FrameBatch&, std::vector<FeatureVector>& w) {
      got.insert(got.end(), w.begin(), w.end());
    });
    g.Run(From(msgs));
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i].vm_id, expected[i].vm_id);
      ASSERT_EQ(got[i].window_index, expected[i].window_index);
      ASSERT_EQ(got[i].entropy, expected[i].entropy);  // bit-for-bit
      ASSERT_EQ(got[i].derived, expected[i].derived);
    }
    EXPECT_EQ(g.stats().batches, 300u);
    EXPECT_EQ(g.stats().frames, 300u * 4 * 2);
  }
}

TEST(EntropyGraphTest, InvalidBatchesAreCountedAndSkipped) {
  auto msgs = Messages(30, 5);
  msgs[3] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  msgs[17][20] ^= 0xff;
  std::vector<uint64_t> bad;
  uint64_t sink_calls = 0;
  EntropyGraph g(
      EntropyGraphConfig{{5, 5}, 8}, [&](const FrameBatch&, std::vector<FeatureVector>&) { ++sink_calls; },
      [&](uint64_t index, const Status& why) {
        bad.push_back(index);
        EXPECT_FALSE(why.message().empty());
      });
  g.Run(From(msgs));
  EXPECT_GE(g.stats().invalid_batches, 1u);
  EXPECT_EQ(bad.size(), g.stats().invalid_batches.load());
  EXPECT_EQ(bad[0], 3u);
  EXPECT_EQ(sink_calls + bad.size(), 30u);
}

// on_done sees every message, valid or not, once and in input order: what an
// at-least-once consumer commits by.
TEST(EntropyGraphTest, OnDoneFollowsInputOrderIncludingInvalid) {
  auto msgs = Messages(40, 3);
  msgs[5] = {1, 2, 3};
  std::vector<uint64_t> done;
  EntropyGraph g(EntropyGraphConfig{{5, 5}, 8}, [](const FrameBatch&, std::vector<FeatureVector>&) {});
  g.OnDone([&](uint64_t index) { done.push_back(index); });
  g.Run(From(msgs));
  ASSERT_EQ(done.size(), 40u);
  for (uint64_t i = 0; i < done.size(); ++i) EXPECT_EQ(done[i], i);
}

// Forget drops a VM's windows: the next window needs a full window of new
// frames again.
TEST(EntropyGraphTest, ForgetDropsTheWindowsOfAVm) {
  std::vector<std::vector<uint8_t>> msgs;
  for (int i = 0; i < 25; ++i) msgs.push_back(EncodeBatch("vm", "h", testing::SyntheticFrames(1, 2, i, 8, i)));
  std::vector<uint64_t> window_ends;  // tick of each window's last frame
  EntropyGraph* graph = nullptr;
  EntropyGraph g(EntropyGraphConfig{{10, 10}, 4}, [&](const FrameBatch& b, std::vector<FeatureVector>& w) {
    for (size_t k = 0; k < w.size(); ++k) window_ends.push_back(b.frames.back().seq);
  });
  g.OnDone([&](uint64_t index) {
    if (index == 12) graph->Forget("vm");  // applied before message 13
  });
  graph = &g;
  g.Run(From(msgs));
  // Windows end at ticks 9 and 19 without Forget; after it, the first window
  // needs ten new ticks (13..22).
  ASSERT_EQ(window_ends.size(), 2u);
  EXPECT_EQ(window_ends[0], 9u);
  EXPECT_EQ(window_ends[1], 22u);
}

TEST(EntropyGraphTest, SlowSinkBoundsMessagesInFlight) {
  const auto msgs = Messages(60, 2);
  std::atomic<int> pulled{0}, sunk{0}, max_gap{0};
  size_t i = 0;
  EntropyGraph g(EntropyGraphConfig{{4, 4}, 4}, [&](const FrameBatch&, std::vector<FeatureVector>&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ++sunk;
  });
  g.Run([&]() -> std::optional<std::vector<uint8_t>> {
    if (i == msgs.size()) return std::nullopt;
    max_gap = std::max(max_gap.load(), pulled.load() - sunk.load());
    ++pulled;
    return msgs[i++];
  });
  EXPECT_EQ(sunk, 60);
  // At most max_in_flight in the graph plus the one the input node holds.
  EXPECT_LE(max_gap, 4 + 1);
}

}  // namespace
}  // namespace crv
