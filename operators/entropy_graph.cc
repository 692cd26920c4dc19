#include "operators/entropy_graph.h"

#include <oneapi/tbb/flow_graph.h>

#include <memory>

namespace crv {
namespace {
struct Item {
  uint64_t index = 0;
  std::vector<uint8_t> bytes;
  FrameBatch batch;
  Status status;
  std::vector<FeatureVector> windows;
};
using ItemPtr = std::shared_ptr<Item>;
}  // namespace

void Classify(const Model& model, std::vector<FeatureVector>* windows) {
  for (FeatureVector& fv : *windows) {
    const Prediction p = model.Classify(fv);
    fv.state = p.klass;
    fv.confidence = p.confidence;
  }
}

EntropyGraph::EntropyGraph(EntropyGraphConfig config, Sink sink, InvalidHandler on_invalid)
    : config_(config), sink_(std::move(sink)), on_invalid_(std::move(on_invalid)) {}

void EntropyGraph::Run(Source source) {
  namespace flow = oneapi::tbb::flow;
  flow::graph g;
  uint64_t next_index = 0;
  WindowFeatureOperator windows(config_.window);

  flow::input_node<ItemPtr> input(g, [&](oneapi::tbb::flow_control& fc) -> ItemPtr {
    auto bytes = source();
    if (!bytes) {
      fc.stop();
      return nullptr;
    }
    auto item = std::make_shared<Item>();
    item->index = next_index++;
    item->bytes = std::move(*bytes);
    return item;
  });
  flow::limiter_node<ItemPtr> limiter(g, config_.max_in_flight == 0 ? 1 : config_.max_in_flight);
  flow::function_node<ItemPtr, ItemPtr> decode(g, flow::unlimited, [](ItemPtr item) {
    item->status = DecodeBatch(item->bytes, &item->batch);
    item->bytes = {};
    return item;
  });
  flow::sequencer_node<ItemPtr> order(g, [](const ItemPtr& item) { return static_cast<size_t>(item->index); });
  // Windows, classification and the sink run in one serial node that
  // *rejects* while busy, so it pulls from the sequencer in order. (A chain of
  // queueing serial nodes after the sequencer can reorder: a new arrival may
  // take the free slot before the queued item is drained — seen under ASan.)
  const Model* model = config_.model;
  flow::function_node<ItemPtr, flow::continue_msg, flow::rejecting> process(g, flow::serial, [&, model](ItemPtr item) {
    ++stats_.batches;
    {
      std::lock_guard lock(forget_mu_);
      for (const auto& vm : forget_) windows.Forget(vm);
      forget_.clear();
    }
    if (!item->status.ok()) {
      ++stats_.invalid_batches;
      if (on_invalid_) on_invalid_(item->index, item->status);
      if (on_done_) on_done_(item->index);
      return flow::continue_msg();
    }
    stats_.frames += item->batch.frames.size();
    windows.Add(item->batch, &item->windows);
    stats_.windows += item->windows.size();
    stats_.stale_frames.store(windows.stale_frames());
    if (model != nullptr) Classify(*model, &item->windows);
    sink_(item->batch, item->windows);
    if (on_done_) on_done_(item->index);
    return flow::continue_msg();
  });

  flow::make_edge(input, limiter);
  flow::make_edge(limiter, decode);
  flow::make_edge(decode, order);
  flow::make_edge(order, process);
  flow::make_edge(process, limiter.decrementer());
  input.activate();
  g.wait_for_all();
}

void EntropyGraph::Forget(const std::string& vm_id) {
  std::lock_guard lock(forget_mu_);
  forget_.push_back(vm_id);
}

}  // namespace crv
