// crv over a real Apache Kafka broker (scripts/kafka.sh, KRaft on loopback):
//  - the transport conformance suite against the real broker;
//  - end to end: one `crv collect` with two real QEMU guests (ok, panic) and
//    two `crv process` in one group, one of them killed mid-stream: each
//    guest's verdict appears exactly once on the states topic, the
//    screenshot/OCR results arrive, and SIGTERM on the agent loses no frame
//    it had accepted.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "collectors/qemu/launcher.h"
#include "schemas/register_frame.h"
#include "stream/kafka_transport.h"
#include "stream/transport_conformance.h"
#include "tests/child_process.h"

namespace crv::testing {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string Bootstrap() {
  if (const char* e = getenv("CRV_KAFKA_BOOTSTRAP")) return e;
  std::string b = ReadAll(std::string(CRV_KAFKA_DIR) + "/bootstrap");
  while (!b.empty() && (b.back() == '\n' || b.back() == ' ')) b.pop_back();
  return b;
}

std::shared_ptr<KafkaTransport> Kafka(KafkaOptions o) {
  auto t = KafkaTransport::Create(o);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return std::shared_ptr<KafkaTransport>(std::move(*t));
}

KafkaOptions Options(const std::string& topic, const std::string& group = "") {
  KafkaOptions o;
  o.brokers = Bootstrap();
  o.topic = topic;
  if (!group.empty()) {
    o.produce = false;
    o.group_id = group;
  }
  return o;
}

TransportFactory RealKafka() {
  return {"kafka_real",
          [](const std::string& topic) {
            return TransportUnderTest{Kafka(Options(topic)), Kafka(Options(topic, topic + "-group"))};
          },
          [](const std::string& topic, size_t capacity) -> std::shared_ptr<FrameTransport> {
            KafkaOptions o = Options(topic);
            o.brokers = "127.0.0.1:1";  // no broker: the local queue fills
            o.properties = {{"queue.buffering.max.messages", std::to_string(capacity)}};
            o.flush_timeout = 100ms;
            return Kafka(o);
          }};
}

INSTANTIATE_TEST_SUITE_P(RealBroker, TransportConformance, ::testing::Values(RealKafka()),
                         [](const auto& info) { return info.param.name; });

// All JSON messages on `topic` from the beginning, until `done` says so or
// the deadline passes; then `linger` more to catch duplicates.
std::vector<nlohmann::json> ReadJson(const std::string& topic,
                                     const std::function<bool(const std::vector<nlohmann::json>&)>& done,
                                     std::chrono::seconds deadline, std::chrono::seconds linger) {
  auto c = Kafka(Options(topic, topic + "-reader-" + std::to_string(getpid())));
  std::vector<nlohmann::json> got;
  auto until = std::chrono::steady_clock::now() + deadline;
  bool finished = false;
  while (std::chrono::steady_clock::now() < until) {
    auto m = c->Poll(200ms);
    if (!m.ok()) break;
    if (m->has_value())
      got.push_back(nlohmann::json::parse((*m)->payload.begin(), (*m)->payload.end(), nullptr, false));
    if (!finished && done(got)) {
      finished = true;
      until = std::chrono::steady_clock::now() + linger;
    }
  }
  return got;
}

int Count(const std::vector<nlohmann::json>& events, const std::string& vm, const std::string& kind) {
  int n = 0;
  for (const auto& e : events) n += e.is_object() && e.value("vm", "") == vm && e.value("kind", "") == kind;
  return n;
}

const nlohmann::json* Find(const std::vector<nlohmann::json>& events, const std::string& vm, const std::string& kind) {
  for (const auto& e : events) {
    if (e.is_object() && e.value("vm", "") == vm && e.value("kind", "") == kind) return &e;
  }
  return nullptr;
}

TEST(KafkaEndToEnd, TwoGuestsOneAgentTwoProcessorsOneKilled) {
  const std::string dir = ::testing::TempDir() + "/crv-kafka-e2e-" + std::to_string(getpid());
  fs::remove_all(dir);
  fs::create_directories(dir + "/qmp");
  const std::string p = "e2e-" + std::to_string(getpid()) + "-";
  const std::string kafka = "kafka:\n  brokers: " + Bootstrap() + "\n  frames_topic: " + p +
                            "frames\n  states_topic: " + p + "states\n  actions_topic: " + p +
                            "actions\n  results_topic: " + p + "results\n";
  std::ofstream(dir + "/collect.yaml") << kafka << "host: e2e-host\nsampling:\n  hz: 50\n  ticks_per_message: 5\n"
                                       << "discovery:\n  qmp_dir: " << dir << "/qmp\n  rescan_seconds: 0.2\n"
                                       << "metrics:\n  listen: 127.0.0.1:0\nactions:\n  out_dir: " << dir << "/shots\n";
  for (const char* m : {"a", "b"}) {
    std::ofstream(dir + "/process-" + m + ".yaml") << kafka << "group: " << p << "processors\nrecords:\n  db: " << dir
                                                   << "/process-" << m << ".sqlite3\nmetrics:\n  listen: 127.0.0.1:0\n";
  }
  const std::string crv = CRV_BINARY;
  Child collect(crv + " collect --json -c " + dir + "/collect.yaml", dir + "/collect.out", dir + "/collect.err");
  auto a = std::make_unique<Child>(crv + " process -c " + dir + "/process-a.yaml", dir + "/a.out", dir + "/a.err");
  Child b(crv + " process -c " + dir + "/process-b.yaml", dir + "/b.out", dir + "/b.err");
  std::this_thread::sleep_for(4s);  // group joins
  ASSERT_TRUE(collect.Running()) << collect.err();
  ASSERT_TRUE(a->Running()) << a->err();
  ASSERT_TRUE(b.Running()) << b.err();

  // The guests: their QMP sockets appear in the agent's discovery directory.
  std::vector<std::unique_ptr<QemuGuest>> guests;
  for (const char* name : {"ok", "panic"}) {
    auto spec = LoadGuestDir(std::string(CRV_GUESTS_DIR_DEFAULT) + "/" + name);
    ASSERT_TRUE(spec.ok()) << spec.status().message();
    LaunchOptions lo;
    lo.accel = Accel::kTcg;
    auto g = QemuGuest::Launch(*spec, lo);
    ASSERT_TRUE(g.ok()) << g.status().message();
    fs::create_symlink((*g)->qmp_socket(), dir + "/qmp/" + name + ".sock");
    guests.push_back(std::move(*g));
  }
  // One processor dies mid-stream, without a goodbye.
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(a->Stop(SIGKILL), 128 + SIGKILL);

  auto states = ReadJson(
      p + "states", [](const auto& ev) { return Find(ev, "ok", "verdict") && Find(ev, "panic", "verdict"); }, 150s, 8s);
  ASSERT_TRUE(Find(states, "ok", "verdict")) << "no verdict for ok\nB:\n" << b.err() << "\ncollect:\n" << collect.err();
  ASSERT_TRUE(Find(states, "panic", "verdict")) << "no verdict for panic\nB:\n" << b.err();
  EXPECT_EQ(Count(states, "ok", "verdict"), 1);
  EXPECT_EQ(Count(states, "panic", "verdict"), 1);
  const nlohmann::json& ok = *Find(states, "ok", "verdict");
  const nlohmann::json& panic = *Find(states, "panic", "verdict");
  EXPECT_EQ(ok["verdict"], "success") << ok.dump();
  EXPECT_EQ(panic["verdict"], "failure") << panic.dump();
  EXPECT_EQ(panic["category"], "kernel_panic") << panic.dump();
  EXPECT_NE(ok.value("ocr_text", "").find("login"), std::string::npos) << ok.dump();
  EXPECT_TRUE(fs::exists(ok.value("screenshot", ""))) << ok.dump();
  // Transitions are not repeated either.
  std::map<std::string, int> keys;
  for (const auto& e : states) {
    if (e.is_object()) ++keys[e.value("event_key", "")];
  }
  for (const auto& [k, n] : keys) EXPECT_EQ(n, 1) << k;

  // The screenshot and OCR results arrived on the results topic.
  auto results = ReadJson(
      p + "results",
      [](const auto& ev) {
        bool ok = false, panic = false;
        for (const auto& e : ev) {
          ok |= e.value("vm", "") == "ok" && e.value("settled", false);
          panic |= e.value("vm", "") == "panic" && e.value("failure_category", "") == "kernel_panic";
        }
        return ok && panic;
      },
      30s, 0s);
  bool panic_text = false, ok_shot = false;
  for (const auto& e : results) {
    if (e.value("vm", "") == "panic") panic_text |= e.value("ocr_text", "").find("Kernel panic") != std::string::npos;
    if (e.value("vm", "") == "ok") ok_shot |= fs::exists(e.value("screenshot", ""));
  }
  EXPECT_TRUE(panic_text);
  EXPECT_TRUE(ok_shot);

  // SIGTERM: the agent flushes; every frame it accepted is on the topic.
  EXPECT_EQ(collect.Stop(SIGTERM), 0) << collect.err();
  auto summary = nlohmann::json::parse(collect.out(), nullptr, false);
  ASSERT_TRUE(summary.is_object()) << collect.out();
  EXPECT_EQ(summary["messages_undelivered"], 0);
  const uint64_t published = summary["frames_published"].get<uint64_t>();
  EXPECT_GT(published, 500u);
  auto frames = Kafka(Options(p + "frames", p + "frames-counter"));
  uint64_t counted = 0, messages = 0;
  const uint64_t want_messages = summary["messages_published"].get<uint64_t>();
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (messages < want_messages && std::chrono::steady_clock::now() < until) {
    auto m = frames->Poll(200ms);
    ASSERT_TRUE(m.ok());
    if (!m->has_value()) continue;
    FrameBatch batch;
    ASSERT_TRUE(DecodeBatch((*m)->payload, &batch).ok());
    counted += batch.frames.size();
    ++messages;
  }
  EXPECT_EQ(messages, want_messages);
  EXPECT_EQ(counted, published);
  EXPECT_EQ(b.Stop(SIGTERM), 0) << b.err();
}

// A malformed message on the frames topic is counted and skipped; the
// processor keeps going (checked on its metrics and its next verdict-free run).
TEST(KafkaEndToEnd, MalformedFramesAreCountedAndSkipped) {
  const std::string dir = ::testing::TempDir() + "/crv-kafka-bad-" + std::to_string(getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string p = "bad-" + std::to_string(getpid()) + "-";
  std::ofstream(dir + "/process.yaml") << "kafka:\n  brokers: " << Bootstrap() << "\n  frames_topic: " << p
                                       << "frames\n  states_topic: " << p << "states\n  actions_topic: " << p
                                       << "actions\n  results_topic: " << p << "results\ngroup: " << p
                                       << "g\nrecords:\n  db: " << dir
                                       << "/p.sqlite3\nmetrics:\n  listen: 127.0.0.1:0\n";
  auto producer = Kafka(Options(p + "frames"));
  ASSERT_TRUE(producer->Publish("vm", {1, 2, 3, 4, 5}, 5s).ok());
  ASSERT_TRUE(producer->Publish("vm", std::vector<uint8_t>(64, 0xff), 5s).ok());
  std::vector<RegisterFrame> frames(1);
  frames[0].regs[kCr0] = kCr0Pe;
  ASSERT_TRUE(producer->Publish("vm", EncodeBatch("vm", "h", frames), 5s).ok());
  ASSERT_TRUE(producer->Flush(10s).ok());
  Child proc(std::string(CRV_BINARY) + " process -c " + dir + "/process.yaml", dir + "/out", dir + "/err");
  const auto until = std::chrono::steady_clock::now() + 60s;
  std::string err;
  while (std::chrono::steady_clock::now() < until) {
    err = proc.err();
    if (err.find("frame message 1 skipped") != std::string::npos) break;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_NE(err.find("frame message 0 skipped"), std::string::npos) << err;
  EXPECT_NE(err.find("frame message 1 skipped"), std::string::npos) << err;
  EXPECT_TRUE(proc.Running()) << err;
  EXPECT_EQ(proc.Stop(SIGTERM), 0) << proc.err();
}

}  // namespace
}  // namespace crv::testing
