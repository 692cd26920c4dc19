// crv collect: the host agent. Discovers the VMs of this hypervisor host,
// samples each at the configured rate, publishes frame batches to Kafka
// (keyed by VM id), and executes the action requests addressed to this host
// (screenshot, screen confirmation with OCR), publishing their results.
#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "apps/commands.h"
#include "apps/daemon.h"
#include "collectors/libvirt/libvirt_source.h"
#include "collectors/qemu/qmp_register_source.h"
#include "collectors/sampler.h"
#include "collectors/source_factory.h"
#include "collectors/xen/xen_source.h"
#include "core/clock.h"
#include "core/features.h"
#include "sinks/screen_check.h"
#include "stream/messages.h"

namespace crv::app {
namespace fs = std::filesystem;

#if CRV_WITH_KAFKA
namespace {

int64_t NowNs() { return RealClock::Instance().WallNs(); }

// One watched VM: its source, its sampler thread, its display.
struct WatchedVm {
  std::string id;
  uint64_t boot_id = 0;
  std::unique_ptr<RegisterSource> source;
  std::unique_ptr<Sampler> sampler;
  std::thread thread;
  std::atomic<bool> done{false};
  Status end;
  std::unique_ptr<QmpClient> xen_qmp;  // Xen HVM: the device model's monitor, opened on first use
  std::mutex xen_qmp_mu;

  // Writes the display to `path` as `format` through whatever owns it.
  Status Shoot(const std::string& path, const std::string& format) {
    if (auto* q = dynamic_cast<QmpRegisterSource*>(source.get())) {
      std::lock_guard lock(q->mutex());
      return Screendump(q->client(), path, format);
    }
    if (auto* l = dynamic_cast<LibvirtRegisterSource*>(source.get())) {
      if (format != "png") return InvalidArgument("libvirt screenshots are PNG only");
      CRV_ASSIGN_OR_RETURN(std::string type, l->Screenshot(path));
      if (type != "image/png") return InvalidArgument("libvirt returned " + type + ", not PNG");
      return Status::Ok();
    }
    if (auto* x = dynamic_cast<XenRegisterSource*>(source.get())) {
      std::lock_guard lock(xen_qmp_mu);
      if (!xen_qmp) {
        CRV_ASSIGN_OR_RETURN(xen_qmp, QmpClient::Connect(x->qmp_socket()));
      }
      return Screendump(*xen_qmp, path, format);
    }
    return InvalidArgument("VM " + id + " has no display crv can read");
  }
  bool CanSettleCheck() const { return dynamic_cast<LibvirtRegisterSource*>(source.get()) == nullptr; }
};

class Agent {
 public:
  Agent(CollectConfig c, bool json) : c_(std::move(c)), json_(json) {
    if (c_.host.empty()) c_.host = HostName();
  }

  int Run() {
    InstallStopSignals();
    auto server = ServeMetrics(metrics_, c_.metrics_listen, c_.metrics_auth_file);
    if (!server.ok()) return Fail(server.status());
    server_ = std::move(*server);
    std::error_code ec;
    fs::create_directories(c_.out_dir, ec);
    if (ec) return Fail(InvalidArgument("actions.out_dir " + c_.out_dir + ": " + ec.message()));

    if (Status s = EnsureTopics(c_.kafka); !s.ok()) return Fail(s);
    auto frames_opts = KafkaFor(c_.kafka, c_.kafka.frames_topic, "crv-collect-" + c_.host);
    frames_opts.flush_timeout = std::chrono::milliseconds(c_.flush_timeout_ms);
    auto frames = KafkaTransport::Create(frames_opts);
    if (!frames.ok()) return Fail(frames.status());
    frames_ = std::move(*frames);
    auto results = KafkaTransport::Create(KafkaFor(c_.kafka, c_.kafka.results_topic, "crv-collect-" + c_.host));
    if (!results.ok()) return Fail(results.status());
    results_ = std::move(*results);
    auto actions_opts = KafkaFor(c_.kafka, c_.kafka.actions_topic, "crv-collect-" + c_.host);
    actions_opts.produce = false;
    actions_opts.group_id = "crv-collect-" + c_.host;  // every agent reads all requests, acts on its own
    auto actions = KafkaTransport::Create(actions_opts);
    if (!actions.ok()) return Fail(actions.status());
    actions_ = std::move(*actions);
    spdlog::info("crv collect on host {}: frames to {} on {}", c_.host, c_.kafka.frames_topic, c_.kafka.brokers);

    std::thread action_thread([this] { ServeActions(); });
    while (!StopRequested()) {
      Discover();
      Reap();
      CountDeliveryErrors(*frames_, metrics_, &frame_errors_seen_);
      CountDeliveryErrors(*results_, metrics_, &result_errors_seen_);
      WaitForStop(std::chrono::milliseconds(static_cast<int64_t>(c_.rescan_seconds * 1000)));
    }
    spdlog::info("stopping: flushing frames to Kafka");
    {
      std::lock_guard lock(mu_);
      for (auto& [id, vm] : vms_) vm->sampler->Stop();
    }
    for (auto& [id, vm] : vms_) {
      if (vm->thread.joinable()) vm->thread.join();
    }
    action_thread.join();
    actions_->Close();
    frames_->Close();  // flushes: every frame Publish accepted is delivered, or reported here
    results_->Close();
    const TransportStats s = frames_->stats();
    const uint64_t undelivered = s.published - s.delivered;
    nlohmann::json summary = {{"host", c_.host},
                              {"messages_published", s.published},
                              {"messages_delivered", s.delivered},
                              {"messages_undelivered", undelivered},
                              {"delivery_errors", s.delivery_errors},
                              {"frames_published", frames_published_.load()},
                              {"publish_timeouts", s.publish_timeouts},
                              {"actions_done", actions_done_.load()},
                              {"bad_action_requests", bad_requests_.load()}};
    if (json_) std::cout << summary.dump() << std::endl;
    spdlog::info("stopped: {} messages ({} frames) published, {} delivered, {} undelivered", s.published,
                 frames_published_.load(), s.delivered, undelivered);
    return undelivered == 0 ? kExitOk : kExitError;
  }

 private:
  int Fail(const Status& s) {
    spdlog::error("{}", s.message());
    return kExitError;
  }

  // Every configured VM and every socket in the QMP directory that is not
  // watched yet.
  void Discover() {
    std::vector<VmEntry> want = c_.vms;
    if (!c_.qmp_dir.empty()) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(c_.qmp_dir, ec)) {
        const auto ext = e.path().extension().string();
        if (ext != ".sock" && ext != ".qmp") continue;
        VmEntry v;
        v.id = e.path().stem().string();
        v.qmp = e.path().string();
        want.push_back(v);
      }
      if (ec && !warned_dir_) {
        spdlog::warn("discovery.qmp_dir {}: {}", c_.qmp_dir, ec.message());
        warned_dir_ = true;
      }
    }
    // Every running domain of the libvirt connection and of the Xen host.
    if (!c_.libvirt_uri.empty()) {
      if (!libvirt_) {
        auto conn = LibvirtConnection::Open(c_.libvirt_uri);
        if (conn.ok()) {
          libvirt_ = *conn;
        } else if (failed_.insert("libvirt:" + c_.libvirt_uri).second) {
          spdlog::warn("{}", conn.status().message());  // once, until it works
        }
      }
      if (libvirt_) {
        auto domains = libvirt_->ListDomains(true);
        if (!domains.ok()) {
          spdlog::warn("{}", domains.status().message());
          libvirt_.reset();  // reconnect next time
        } else {
          for (const auto& d : *domains) want.push_back(VmEntry{d.name, "", d.name, c_.libvirt_uri, ""});
        }
      }
    }
    if (c_.xen) {
      if (!xen_) {
        auto host = XenHost::Open();
        if (host.ok()) {
          xen_ = *host;
        } else if (failed_.insert("xen").second) {
          spdlog::warn("{}", host.status().message());
        }
      }
      if (xen_) {
        auto domains = xen_->ListDomains();
        if (domains.ok()) {
          for (const auto& d : *domains) {
            if (d.domid != 0 && !d.dying) want.push_back(VmEntry{d.name, "", "", "", std::to_string(d.domid)});
          }
        }
      }
    }
    for (const auto& v : want) {
      const std::string key = !v.id.empty() ? v.id : (!v.libvirt.empty() ? v.libvirt : v.xen);
      {
        std::lock_guard lock(mu_);
        if (vms_.count(key)) continue;
      }
      SourceSpec spec;
      spec.qmp = v.qmp;
      spec.libvirt = v.libvirt;
      spec.libvirt_uri = v.libvirt_uri;
      spec.xen = v.xen;
      spec.vm_id = key;
      auto src = OpenSource(spec);
      if (!src.ok()) {
        if (!failed_.count(key)) spdlog::warn("VM {}: {}", key, src.status().message());
        failed_.insert(key);
        continue;
      }
      failed_.erase(key);
      Start(key, std::move(*src));
    }
  }

  void Start(const std::string& id, std::unique_ptr<RegisterSource> src) {
    auto vm = std::make_unique<WatchedVm>();
    vm->id = id;
    vm->boot_id = static_cast<uint64_t>(NowNs());
    vm->source = std::move(src);
    WatchedVm* raw = vm.get();
    auto pending = std::make_shared<std::vector<RegisterFrame>>();
    auto ticks = std::make_shared<int>(0);
    auto next_seq = std::make_shared<uint64_t>(0);
    auto encoder = std::make_shared<BatchEncoder>();
    auto publish = [this, raw, pending, ticks, encoder]() {
      if (pending->empty()) return;
      auto bytes = encoder->Encode(raw->id, c_.host, *pending, raw->boot_id);
      // Backpressure: Publish waits while Kafka's local queue is full (the
      // sampler counts the ticks it misses); a batch still refused after 1 s
      // is dropped and counted, never silently.
      Status s = frames_->Publish(raw->id, std::vector<uint8_t>(bytes.begin(), bytes.end()), std::chrono::seconds(1));
      if (s.ok()) {
        metrics_.FramesPublished(pending->size());
        frames_published_ += pending->size();
      } else {
        metrics_.FramesDropped("queue_full", pending->size());
        spdlog::warn("VM {}: {} frames dropped: {}", raw->id, pending->size(), s.message());
      }
      pending->clear();
      *ticks = 0;
    };
    vm->sampler = std::make_unique<Sampler>(
        *vm->source, RealClock::Instance(), SamplerConfig{c_.hz, 0},
        [this, pending, ticks, next_seq, publish](std::vector<RegisterFrame>&& frames) -> Status {
          if (frames.empty()) return Status::Ok();
          if (frames.front().seq > *next_seq) metrics_.TicksMissed(frames.front().seq - *next_seq);
          *next_seq = frames.front().seq + 1;
          metrics_.FramesSampled(frames.size());
          metrics_.LastFrameAt(frames.front().timestamp_ns);
          pending->insert(pending->end(), frames.begin(), frames.end());
          if (++*ticks >= c_.ticks_per_message) publish();
          return Status::Ok();
        });
    vm->thread = std::thread([raw, publish] {
      raw->end = raw->sampler->Run();
      publish();  // the ticks sampled since the last message
      raw->done.store(true);
    });
    spdlog::info("watching VM {} (boot {})", id, vm->boot_id);
    metrics_.Watching(id);
    std::lock_guard lock(mu_);
    vms_[id] = std::move(vm);
  }

  // VMs whose source is gone: forget them (a new run is a new boot).
  void Reap() {
    std::lock_guard lock(mu_);
    for (auto it = vms_.begin(); it != vms_.end();) {
      if (!it->second->done.load()) {
        ++it;
        continue;
      }
      it->second->thread.join();
      spdlog::info("VM {} is gone: {}", it->first, it->second->end.ok() ? "stopped" : it->second->end.message());
      metrics_.ForgetVm(it->first);
      it = vms_.erase(it);
    }
  }

  void ServeActions() {
    while (!StopRequested()) {
      auto m = actions_->Poll(std::chrono::milliseconds(200));
      if (!m.ok()) return;
      if (!m->has_value()) continue;
      const StreamMessage& msg = **m;
      auto req = ParseActionRequest(msg.payload);
      if (!req.ok()) {
        ++bad_requests_;
        spdlog::warn("{} at partition {} offset {}: skipped", req.status().message(), msg.partition, msg.offset);
      } else if (req->host.empty() || req->host == c_.host) {
        Execute(*req);
      }
      actions_->Commit(msg);
    }
  }

  void Execute(const ActionRequest& req) {
    ActionResult res;
    res.request_id = req.request_id;
    res.vm = req.vm;
    res.host = c_.host;
    res.boot_id = req.boot_id;
    res.action = req.action;
    WatchedVm* vm = nullptr;
    {
      std::lock_guard lock(mu_);
      if (auto it = vms_.find(req.vm); it != vms_.end() && !it->second->done.load()) vm = it->second.get();
    }
    if (vm == nullptr) {
      res.error = "VM " + req.vm + " is not watched on " + c_.host;
    } else if (req.t_ns != 0 && NowNs() - req.t_ns > 60'000'000'000LL) {
      res.error = "request older than 60 s: skipped";
    } else {
      ScreenCheckOptions so;
      so.workdir = c_.out_dir;
      so.settle_ms = c_.settle_ms;
      so.ocr_timeout_ms = c_.ocr_timeout_ms;
      ScreenCheck check([vm](const std::string& p, const std::string& f) { return vm->Shoot(p, f); }, so, &metrics_);
      std::string safe = req.vm;
      for (char& ch : safe) {
        if (!isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_') ch = '_';
      }
      const std::string png = fs::absolute(c_.out_dir).string() + "/" + safe + "-" + std::to_string(NowNs()) + ".png";
      const bool confirm = req.action == "confirm" && vm->CanSettleCheck();
      ScreenReading r = confirm ? check.Confirm(png) : check.Evidence(png);
      res.ok = !r.screenshot.empty();
      res.settled = confirm ? r.settled : res.ok;
      res.screenshot = r.screenshot;
      res.ocr_text = r.text;
      res.text_ok = r.text_ok;
      res.failure_category = r.failure_category;
      res.work_in_progress = r.work_in_progress;
      res.note = r.note;
    }
    const std::string body = res.ToJson();
    Status s = results_->Publish(req.vm, std::vector<uint8_t>(body.begin(), body.end()), std::chrono::seconds(5));
    if (!s.ok()) spdlog::warn("action result for {}: {}", req.vm, s.message());
    ++actions_done_;
  }

  CollectConfig c_;
  bool json_;
  Metrics metrics_;
  std::unique_ptr<MetricsServer> server_;
  std::unique_ptr<KafkaTransport> frames_, results_, actions_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<WatchedVm>> vms_;
  std::set<std::string> failed_;
  bool warned_dir_ = false;
  uint64_t frame_errors_seen_ = 0, result_errors_seen_ = 0;
  std::shared_ptr<LibvirtConnection> libvirt_;
  std::shared_ptr<XenHost> xen_;
  std::atomic<uint64_t> frames_published_{0}, actions_done_{0}, bad_requests_{0};
};

}  // namespace
#endif

CommandFn RegisterCollect(CLI::App& app) {
  auto config = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto brokers = std::make_shared<std::string>();
  app.add_option("-c,--config", *config, "YAML configuration (keys below; all optional)")->check(CLI::ExistingFile);
  app.add_option("--brokers", *brokers, "override kafka.brokers");
  app.add_flag("--json", *json, "print a JSON summary on stdout when stopped");
  app.footer(
      "Runs until SIGINT/SIGTERM, then flushes every accepted frame to Kafka (exit 2 if any is left).\n"
      "Configuration keys (YAML, dotted = nested):\n" +
      DescribeKeys(CollectKeys()));
  return [config, json, brokers]() -> int {
#if CRV_WITH_KAFKA
    auto c = LoadCollectConfig(*config);
    if (!c.ok()) {
      spdlog::error("{}", c.status().message());
      return kExitError;
    }
    if (!brokers->empty()) c->kafka.brokers = *brokers;
    return Agent(*c, *json).Run();
#else
    spdlog::error("crv collect needs Kafka: crv was built without librdkafka (CRV_WITH_KAFKA=OFF)");
    return kExitError;
#endif
  };
}

}  // namespace crv::app
