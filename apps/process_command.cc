// crv process: a processing daemon. Members of one consumer group share the
// frames topic (each VM stays on one member at a time); each runs the
// operator graph (windows, entropy, classifier) and a boot state machine per
// VM, publishes state transitions and verdicts to the states topic, and asks
// the host that owns a VM for the screen's word (action requests): a success
// candidate becomes a verdict once the agent reports a settled screen without
// failure text; a failure verdict gets a screenshot as evidence.
//
// At-least-once with idempotent outputs: a frame message is committed only
// after it was fully handled and the events it caused were delivered; events
// are keyed (VM, boot, state) and a member loads the keys already on the
// states topic at start and after every assignment, so a redelivery after a
// crash or rebalance does not publish a second transition or verdict.
#include <spdlog/spdlog.h>

#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "apps/commands.h"
#include "apps/daemon.h"
#include "core/clock.h"
#include "core/features.h"
#include "operators/boot_state_machine.h"
#include "operators/entropy_graph.h"
#include "operators/model.h"
#include "sinks/boot_log.h"
#include "stream/messages.h"

namespace crv::app {
namespace fs = std::filesystem;

#if CRV_WITH_KAFKA
namespace {

int64_t NowNs() { return RealClock::Instance().WallNs(); }

struct VmRun {
  std::string host;
  uint64_t boot_id = 0;
  int64_t start_ns = 0;
  std::unique_ptr<BootStateMachine> sm;
  int64_t last_request_ns = 0;
  bool verdict_sent = false;
  bool evidence_requested = false;
  int64_t evidence_deadline_ns = 0;
};

class Processor {
 public:
  explicit Processor(ProcessConfig c) : c_(std::move(c)) {}

  int Run() {
    InstallStopSignals();
    const std::string model_path = c_.model.empty() ? std::string(CRV_DEFAULT_MODEL) : c_.model;
    auto model = LoadModel(model_path);
    if (!model.ok()) return Fail(model.status());
    model_ = std::move(*model);
    auto server = ServeMetrics(metrics_, c_.metrics_listen, c_.metrics_auth_file);
    if (!server.ok()) return Fail(server.status());
    server_ = std::move(*server);
    if (fs::path(c_.db).has_parent_path()) fs::create_directories(fs::path(c_.db).parent_path());
    auto log = BootLog::Open(c_.db);
    if (!log.ok()) return Fail(log.status());
    log_ = std::move(*log);

    member_ = HostName() + "-" + std::to_string(getpid());
    if (Status s = EnsureTopics(c_.kafka); !s.ok()) return Fail(s);
    auto frames_opts = KafkaFor(c_.kafka, c_.kafka.frames_topic, "crv-process-" + member_);
    frames_opts.produce = false;
    frames_opts.group_id = c_.group;
    // A member that dies without leaving is replaced after this long.
    frames_opts.properties.try_emplace("session.timeout.ms", "10000");
    frames_opts.properties.try_emplace("heartbeat.interval.ms", "1000");
    auto frames = KafkaTransport::Create(frames_opts);
    if (!frames.ok()) return Fail(frames.status());
    frames_ = std::move(*frames);
    frames_->SetRebalanceListener([this](const RebalanceEvent& e) { OnRebalance(e); });
    auto states = KafkaTransport::Create(KafkaFor(c_.kafka, c_.kafka.states_topic, "crv-process-" + member_));
    if (!states.ok()) return Fail(states.status());
    states_ = std::move(*states);
    auto actions = KafkaTransport::Create(KafkaFor(c_.kafka, c_.kafka.actions_topic, "crv-process-" + member_));
    if (!actions.ok()) return Fail(actions.status());
    actions_ = std::move(*actions);
    // Every member reads every result (its own group) and keeps those of its VMs.
    auto results_opts = KafkaFor(c_.kafka, c_.kafka.results_topic, "crv-process-" + member_);
    results_opts.produce = false;
    results_opts.group_id = "crv-process-results-" + member_;
    results_opts.properties["auto.offset.reset"] = "latest";
    auto results = KafkaTransport::Create(results_opts);
    if (!results.ok()) return Fail(results.status());
    results_ = std::move(*results);
    LoadEmitted();
    spdlog::info("crv process {} in group {}: frames from {} on {}", member_, c_.group, c_.kafka.frames_topic,
                 c_.kafka.brokers);

    std::thread results_thread([this] { ReadResults(); });
    EntropyGraphConfig gc;
    gc.window = {model_.window.length, c_.hop};
    gc.model = &model_;
    EntropyGraph graph(
        gc, [this](const FrameBatch& b, std::vector<FeatureVector>& w) { Sink(b, w); },
        [this](uint64_t index, const Status& why) {
          metrics_.BatchesInvalid(1);
          spdlog::warn("frame message {} skipped: {}", index, why.message());
        });
    graph.OnDone([this](uint64_t index) { Done(index); });
    graph_ = &graph;
    graph.Run([this] { return Next(); });
    graph_ = nullptr;
    results_thread.join();
    frames_->Close();  // commits what was stored
    states_->Close();
    actions_->Close();
    results_->Close();
    spdlog::info("stopped: {} frame messages processed, {} events published", processed_, events_);
    return kExitOk;
  }

 private:
  int Fail(const Status& s) {
    spdlog::error("{}", s.message());
    return kExitError;
  }

  // --- input ---------------------------------------------------------------
  std::optional<std::vector<uint8_t>> Next() {
    for (;;) {
      if (StopRequested()) return std::nullopt;
      if (reload_emitted_.exchange(false)) LoadEmitted();
      auto m = frames_->Poll(std::chrono::milliseconds(100));
      if (!m.ok()) return std::nullopt;
      if (!m->has_value()) continue;
      std::lock_guard lock(mu_);
      partition_of_[(*m)->key] = (*m)->partition;
      std::vector<uint8_t> payload = std::move((*m)->payload);
      (*m)->payload.clear();
      inflight_[next_index_++] = std::move(**m);
      return payload;
    }
  }

  // Message `index` is handled: make the events it caused durable, then
  // store its offset.
  void Done(uint64_t index) {
    if (dirty_) {
      CountDeliveryErrors(*states_, metrics_, &state_errors_seen_);
      CountDeliveryErrors(*actions_, metrics_, &action_errors_seen_);
      if (Status s = states_->Flush(std::chrono::seconds(10)); !s.ok()) spdlog::error("{}", s.message());
      if (Status s = actions_->Flush(std::chrono::seconds(10)); !s.ok()) spdlog::error("{}", s.message());
      dirty_ = false;
    }
    std::lock_guard lock(mu_);
    auto it = inflight_.find(index);
    if (it == inflight_.end()) return;
    frames_->Commit(it->second);
    inflight_.erase(it);
    ++processed_;
  }

  void OnRebalance(const RebalanceEvent& e) {
    std::lock_guard lock(mu_);
    if (e.assigned) {
      owned_ = std::set<int32_t>(e.partitions.begin(), e.partitions.end());
      reload_emitted_ = true;  // another member may have published meanwhile
      spdlog::info("assigned {} partition(s) of {}", e.partitions.size(), c_.kafka.frames_topic);
    } else {
      for (int32_t p : e.partitions) owned_.erase(p);
      spdlog::info("revoked {} partition(s)", e.partitions.size());
    }
  }

  // The events already on the states topic (any member's), read to its end.
  void LoadEmitted() {
    KafkaOptions o = KafkaFor(c_.kafka, c_.kafka.states_topic, "crv-process-" + member_);
    o.produce = false;
    o.group_id = "crv-process-dedup-" + member_ + "-" + std::to_string(NowNs());
    o.properties["enable.partition.eof"] = "true";
    auto t = KafkaTransport::Create(o);
    if (!t.ok()) {
      spdlog::error("cannot read {}: {}", c_.kafka.states_topic, t.status().message());
      return;
    }
    size_t n = 0;
    auto idle_since = std::chrono::steady_clock::now();
    const auto give_up = idle_since + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < give_up &&
           std::chrono::steady_clock::now() - idle_since < std::chrono::milliseconds(1500)) {
      auto m = (*t)->Poll(std::chrono::milliseconds(100));
      if (!m.ok()) break;
      if (!m->has_value()) continue;
      idle_since = std::chrono::steady_clock::now();
      auto key = ParseStateEventKey((*m)->payload);
      if (key.ok()) {
        std::lock_guard lock(emitted_mu_);
        emitted_.insert(*key);
        ++n;
      }
    }
    (*t)->Close();
    spdlog::info("{} event(s) already on {}", n, c_.kafka.states_topic);
  }

  void ReadResults() {
    while (!StopRequested()) {
      auto m = results_->Poll(std::chrono::milliseconds(200));
      if (!m.ok()) return;
      if (!m->has_value()) continue;
      auto r = ParseActionResult((*m)->payload);
      if (!r.ok()) {
        spdlog::warn("{} at partition {} offset {}: skipped", r.status().message(), (*m)->partition, (*m)->offset);
        continue;
      }
      std::lock_guard lock(mu_);
      results_by_vm_[r->vm].push_back(std::move(*r));
    }
  }

  // --- per batch (graph's serial node) ---------------------------------------
  void Sink(const FrameBatch& b, std::vector<FeatureVector>& windows) {
    if (b.frames.empty()) return;
    const int64_t now = b.frames.back().timestamp_ns;  // event time
    metrics_.FramesConsumed(b.frames.size());
    metrics_.LastFrameAt(now);
    metrics_.PipelineLag(static_cast<double>(NowNs() - now) / 1e9);
    std::deque<ActionResult> results;
    {
      std::lock_guard lock(mu_);
      // VMs of partitions this member no longer owns: drop their state.
      for (auto it = runs_.begin(); it != runs_.end();) {
        auto p = partition_of_.find(it->first);
        if (p != partition_of_.end() && !owned_.count(p->second)) {
          graph_->Forget(it->first);
          metrics_.ForgetVm(it->first);
          it = runs_.erase(it);
        } else {
          ++it;
        }
      }
      auto p = partition_of_.find(b.vm_id);
      if (p != partition_of_.end() && !owned_.empty() && !owned_.count(p->second)) return;
      if (auto r = results_by_vm_.find(b.vm_id); r != results_by_vm_.end()) results.swap(r->second);
    }
    VmRun& run = Run(b, now);
    for (const auto& w : windows) {
      const std::string before = run.sm->state();
      if (run.sm->OnWindow(model_.ClassName(w.state), w.confidence, w.end_ns)) {
        metrics_.StateChanged(b.vm_id, run.sm->state(), NowNs());
        Emit(b.vm_id, run, "transition", run.sm->state(), {{"from", before}, {"t_ns", w.end_ns}});
      }
    }
    run.sm->OnTime(now);
    for (const auto& r : results) Apply(b.vm_id, run, r, now);
    // Requests are paced in wall time: a member catching up on a backlog
    // must not send one per 2 s of old frames.
    const int64_t wall = NowNs();
    if (run.sm->verdict() == Verdict::kNone && run.sm->success_candidate() &&
        wall - run.last_request_ns >= static_cast<int64_t>(c_.confirm_retry_seconds * 1e9)) {
      Request(b.vm_id, run, "confirm", now);
    }
    // A failure or time-out: the screenshot is the evidence and its text
    // names the category; without an answer within 15 s the verdict goes out
    // without them.
    if (run.sm->verdict() != Verdict::kNone && run.sm->verdict() != Verdict::kSuccess && !run.verdict_sent) {
      if (!run.evidence_requested) {
        Request(b.vm_id, run, "screenshot", now);
        run.evidence_requested = true;
        run.evidence_deadline_ns = wall + 15'000'000'000LL;
      } else if (wall > run.evidence_deadline_ns) {
        Verdict(b.vm_id, run, "", "", "");
      }
    }
  }

  VmRun& Run(const FrameBatch& b, int64_t now) {
    auto it = runs_.find(b.vm_id);
    if (it == runs_.end() || it->second.boot_id != b.boot_id) {
      VmRun run;
      run.host = b.host;
      run.boot_id = b.boot_id;
      run.start_ns = b.boot_id != 0 ? static_cast<int64_t>(b.boot_id) : b.frames.front().timestamp_ns;
      run.sm = std::make_unique<BootStateMachine>(c_.states, run.start_ns);
      metrics_.BootStarted(b.vm_id, run.sm->state(), NowNs());
      it = runs_.insert_or_assign(b.vm_id, std::move(run)).first;
      (void)now;
    }
    return it->second;
  }

  void Apply(const std::string& vm, VmRun& run, const ActionResult& r, int64_t now) {
    if (r.boot_id != run.boot_id || run.verdict_sent) return;
    if (r.action == "screenshot") {
      if (run.sm->verdict() == Verdict::kNone || run.sm->verdict() == Verdict::kSuccess) return;
      Verdict(vm, run, r.failure_category, r.screenshot, r.ocr_text);
      return;
    }
    if (r.action != "confirm") return;
    if (run.sm->verdict() != Verdict::kNone || !run.sm->success_candidate()) return;
    if (!r.ok || !r.settled) return;  // ask again later
    if (!r.failure_category.empty()) {
      run.sm->DeclareFailure(now);
      run.evidence_requested = true;  // this screen is the evidence
      Verdict(vm, run, r.failure_category, r.screenshot, r.ocr_text);
      return;
    }
    if (r.work_in_progress) return;
    run.sm->ConfirmSuccess(now);
    Verdict(vm, run, "", r.screenshot, r.ocr_text);
  }

  void Request(const std::string& vm, VmRun& run, const std::string& action, int64_t now) {
    run.last_request_ns = NowNs();
    ActionRequest req;
    req.request_id = vm + "/" + std::to_string(run.boot_id) + "/" + action + "/" + std::to_string(now);
    req.vm = vm;
    req.host = run.host;
    req.boot_id = run.boot_id;
    req.action = action;
    req.t_ns = NowNs();
    const std::string body = req.ToJson();
    Status s = actions_->Publish(vm, std::vector<uint8_t>(body.begin(), body.end()), std::chrono::seconds(5));
    if (!s.ok()) spdlog::warn("action request for {}: {}", vm, s.message());
    dirty_ = true;
  }

  void Verdict(const std::string& vm, VmRun& run, std::string category, const std::string& screenshot,
               const std::string& text) {
    if (run.verdict_sent) return;
    run.verdict_sent = true;
    const std::string verdict = VerdictName(run.sm->verdict());
    if (category.empty() && run.sm->verdict() == Verdict::kTimeout) category = "boot_timeout";
    if (category.empty() && run.sm->verdict() == Verdict::kFailure) category = "boot_failure_state";
    const double seconds = static_cast<double>(run.sm->verdict_ns() - run.start_ns) / 1e9;
    const bool fresh = Emit(vm, run, "verdict", verdict,
                            {{"category", category},
                             {"time_to_verdict_s", seconds},
                             {"screenshot", screenshot},
                             {"ocr_text", text},
                             {"model_id", model_.id}});
    if (!fresh) return;  // published before (redelivery): no second record either
    metrics_.Verdict(vm, verdict, category, seconds, NowNs());
    VerificationRecord rec;
    rec.vm = vm;
    rec.image = "kafka:" + run.host;
    rec.started_ns = run.start_ns;
    rec.verdict = verdict;
    rec.error_category = category;
    rec.time_to_verdict_s = seconds;
    rec.screenshot = screenshot;
    rec.ocr_text = text;
    rec.model_id = model_.id;
    for (const auto& t : run.sm->timeline()) {
      rec.timeline.push_back(
          {{"t_s", static_cast<double>(t.t_ns - run.start_ns) / 1e9}, {"from", t.from}, {"to", t.to}});
    }
    if (auto id = log_->Insert(rec); !id.ok()) spdlog::warn("{}", id.status().message());
    spdlog::info("{}: {}{} after {:.1f} s", vm, verdict, category.empty() ? "" : " (" + category + ")", seconds);
  }

  // Publishes one event unless its (VM, boot, kind/state) key is already on
  // the states topic. Returns whether it was published.
  bool Emit(const std::string& vm, const VmRun& run, const std::string& kind, const std::string& state,
            nlohmann::json extra) {
    const std::string key = vm + "/" + std::to_string(run.boot_id) + "/" + kind + "/" + state;
    {
      std::lock_guard lock(emitted_mu_);
      if (!emitted_.insert(key).second) return false;
    }
    extra["event_key"] = key;
    extra["kind"] = kind;
    extra["vm"] = vm;
    extra["host"] = run.host;
    extra["boot_id"] = run.boot_id;
    extra[kind == "verdict" ? "verdict" : "state"] = state;
    extra["member"] = member_;
    const std::string body = extra.dump();
    Status s = states_->Publish(vm, std::vector<uint8_t>(body.begin(), body.end()), std::chrono::seconds(5));
    if (!s.ok()) spdlog::error("state event for {}: {}", vm, s.message());
    dirty_ = true;
    ++events_;
    return true;
  }

  ProcessConfig c_;
  Model model_;
  Metrics metrics_;
  std::unique_ptr<MetricsServer> server_;
  std::unique_ptr<BootLog> log_;
  std::string member_;
  std::unique_ptr<KafkaTransport> frames_, states_, actions_, results_;
  EntropyGraph* graph_ = nullptr;
  std::mutex mu_;  // guards the maps shared by the input, results and sink threads
  std::map<std::string, int32_t> partition_of_;
  std::set<int32_t> owned_;
  std::map<uint64_t, StreamMessage> inflight_;
  uint64_t next_index_ = 0;
  std::map<std::string, std::deque<ActionResult>> results_by_vm_;
  std::map<std::string, VmRun> runs_;  // sink thread only
  std::mutex emitted_mu_;
  std::set<std::string> emitted_;
  std::atomic<bool> reload_emitted_{false};
  std::atomic<bool> dirty_{false};
  uint64_t processed_ = 0, events_ = 0, state_errors_seen_ = 0, action_errors_seen_ = 0;
};

}  // namespace
#endif

CommandFn RegisterProcess(CLI::App& app) {
  auto config = std::make_shared<std::string>();
  auto brokers = std::make_shared<std::string>();
  app.add_option("-c,--config", *config, "YAML configuration (keys below; all optional)")->check(CLI::ExistingFile);
  app.add_option("--brokers", *brokers, "override kafka.brokers");
  app.footer(
      "Runs until SIGINT/SIGTERM; committed offsets let another member resume.\n"
      "Configuration keys (YAML, dotted = nested):\n" +
      DescribeKeys(ProcessKeys()));
  return [config, brokers]() -> int {
#if CRV_WITH_KAFKA
    auto c = LoadProcessConfig(*config);
    if (!c.ok()) {
      spdlog::error("{}", c.status().message());
      return kExitError;
    }
    if (!brokers->empty()) c->kafka.brokers = *brokers;
    return Processor(*c).Run();
#else
    spdlog::error("crv process needs Kafka: crv was built without librdkafka (CRV_WITH_KAFKA=OFF)");
    return kExitError;
#endif
  };
}

}  // namespace crv::app
