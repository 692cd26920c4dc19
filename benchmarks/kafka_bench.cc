// Kafka throughput, each figure against a baseline measured in the same run.
//
// 1. End to end through the real broker on loopback: an agent-side publisher
//    (synthetic 4-vCPU ticks, `ticks_per_message` ticks per FrameBatch, the
//    KafkaTransport crv collect uses) and a processing side (KafkaTransport
//    consumer in a group feeding the EntropyGraph with the shipped model, as
//    crv process does) run together; frames/s = frames classified / time from
//    the first publish to the last frame processed. Baseline: Kafka's own
//    kafka-producer-perf-test, 300-byte records, unthrottled, same broker.
// 2. Producer side against librdkafka's mock cluster: crv frames/s through
//    KafkaTransport::Publish+Flush, against raw rd_kafka_producev of 300-byte
//    messages (same client settings) in the same run.
//
// Usage: bench_kafka KAFKA_DIR [FRAMES] [TICKS_PER_MESSAGE]
//   KAFKA_DIR is a directory where scripts/kafka.sh started a broker.
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include "operators/entropy_graph.h"
#include "operators/model.h"
#include "stream/kafka_mock.h"
#include "stream/kafka_transport.h"
#include "tests/frame_fixtures.h"

using namespace crv;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// Pre-encoded messages: `messages` FrameBatches of `ticks` ticks x 4 vCPUs.
std::vector<std::vector<uint8_t>> Messages(size_t messages, int ticks) {
  std::vector<std::vector<uint8_t>> out;
  BatchEncoder enc;
  const int vms = 8;
  for (size_t i = 0; i < messages; ++i) {
    const std::string vm = "vm-" + std::to_string(i % vms);
    auto frames = testing::SyntheticFrames(static_cast<uint64_t>(ticks), 4, static_cast<uint32_t>(i), 16,
                                           (i / vms) * static_cast<uint64_t>(ticks));
    auto b = enc.Encode(vm, "bench", frames, 1);
    out.emplace_back(b.begin(), b.end());
  }
  return out;
}

struct E2E {
  double frames_per_s = 0, mb_per_s = 0;
  uint64_t frames = 0;
};

E2E EndToEnd(const std::string& brokers, uint64_t frames, int ticks, const Model& model) {
  const std::string topic = "bench-e2e-" + std::to_string(getpid()) + "-" + std::to_string(ticks);
  if (Status s = EnsureKafkaTopics(brokers, {}, {topic}, 8); !s.ok()) std::fprintf(stderr, "%s\n", s.message().c_str());
  const size_t frames_per_msg = static_cast<size_t>(ticks) * 4;
  const auto msgs = Messages(frames / frames_per_msg, ticks);
  size_t bytes = 0;
  for (const auto& m : msgs) bytes += m.size();
  KafkaOptions c;
  c.brokers = brokers;
  c.topic = topic;
  c.produce = false;
  c.group_id = topic + "-g";
  auto cr = KafkaTransport::Create(c);
  auto consumer = std::move(*cr);
  // Let the consumer join before the clock starts.
  for (int i = 0; i < 50 && consumer->assignment().empty(); ++i) (void)consumer->Poll(std::chrono::milliseconds(100));
  KafkaOptions p;
  p.brokers = brokers;
  p.topic = topic;
  p.properties = {{"linger.ms", "20"}};
  auto pr = KafkaTransport::Create(p);
  auto producer = std::move(*pr);

  std::atomic<uint64_t> processed{0};
  const uint64_t want = msgs.size() * frames_per_msg;
  const auto t0 = Clock::now();
  std::thread publisher([&] {
    for (size_t i = 0; i < msgs.size(); ++i) {
      (void)producer->Publish("vm-" + std::to_string(i % 8), msgs[i], std::chrono::seconds(30));
    }
    (void)producer->Flush(std::chrono::seconds(60));
  });
  EntropyGraph graph(EntropyGraphConfig{{model.window.length, 5}, 64, &model},
                     [&](const FrameBatch& b, std::vector<FeatureVector>&) { processed += b.frames.size(); });
  graph.Run([&]() -> std::optional<std::vector<uint8_t>> {
    while (processed.load() < want) {
      auto m = consumer->Poll(std::chrono::milliseconds(100));
      if (!m.ok()) return std::nullopt;
      if (m->has_value()) {
        consumer->Commit(**m);
        return std::move((*m)->payload);
      }
      if (Seconds(t0, Clock::now()) > 300) return std::nullopt;
    }
    return std::nullopt;
  });
  const auto t1 = Clock::now();
  publisher.join();
  consumer->Close();
  E2E r;
  r.frames = processed.load();
  r.frames_per_s = static_cast<double>(r.frames) / Seconds(t0, t1);
  r.mb_per_s = static_cast<double>(bytes) / 1e6 / Seconds(t0, t1);
  return r;
}

// Kafka's producer perf tool: records/s for 300-byte records.
double PerfTool(const std::string& kafka_dir, uint64_t records) {
  const std::string cmd = std::string(CRV_SOURCE_DIR) + "/scripts/kafka.sh perf " + kafka_dir + " --topic bench-perf-" +
                          std::to_string(getpid()) + " --num-records " + std::to_string(records) +
                          " --record-size 300 --throughput -1 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  pclose(p);
  std::smatch m;
  // The final line: "N records sent, X records/sec (Y MB/sec), ..."
  std::regex final_line(R"((\d+) records sent, ([0-9.]+) records/sec \(([0-9.]+) MB/sec\))");
  double rate = 0;
  for (std::sregex_iterator it(out.begin(), out.end(), final_line), end; it != end; ++it) {
    rate = std::stod((*it)[2]);
  }
  if (rate == 0) std::fprintf(stderr, "perf tool output:\n%s\n", out.c_str());
  return rate;
}

// Producer side against the mock cluster.
std::pair<double, double> ProducerOnMock(uint64_t frames, int ticks) {
  testing::KafkaMockCluster mock(1);
  mock.CreateTopic("crv", 8);
  mock.CreateTopic("raw", 8);
  const size_t frames_per_msg = static_cast<size_t>(ticks) * 4;
  const auto msgs = Messages(frames / frames_per_msg, ticks);
  KafkaOptions p;
  p.brokers = mock.bootstraps();
  p.topic = "crv";
  p.properties = {{"linger.ms", "20"}};
  auto pr = KafkaTransport::Create(p);
  auto producer = std::move(*pr);
  auto t0 = Clock::now();
  for (size_t i = 0; i < msgs.size(); ++i) {
    (void)producer->Publish("vm-" + std::to_string(i % 8), msgs[i], std::chrono::seconds(30));
  }
  (void)producer->Flush(std::chrono::seconds(60));
  const double crv_fps = static_cast<double>(msgs.size() * frames_per_msg) / Seconds(t0, Clock::now());
  producer.reset();

  // Raw librdkafka, 300-byte messages, same settings.
  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (auto [k, v] : std::vector<std::pair<const char*, const char*>>{{"bootstrap.servers", mock.bootstraps().c_str()},
                                                                      {"enable.idempotence", "true"},
                                                                      {"acks", "all"},
                                                                      {"compression.type", "lz4"},
                                                                      {"linger.ms", "20"},
                                                                      {"batch.num.messages", "10000"},
                                                                      {"queue.buffering.max.messages", "100000"}}) {
    rd_kafka_conf_set(conf, k, v, err, sizeof err);
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  const uint64_t n = 1'000'000;
  std::vector<char> payload(300, 'x');
  t0 = Clock::now();
  for (uint64_t i = 0; i < n; ++i) {
    payload[i % 300] = static_cast<char>(i);
    while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("raw"), RD_KAFKA_V_KEY("vm", 2),
                             RD_KAFKA_V_VALUE(payload.data(), payload.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(rk, 1);
    }
    rd_kafka_poll(rk, 0);
  }
  rd_kafka_flush(rk, 60000);
  const double raw_mps = static_cast<double>(n) / Seconds(t0, Clock::now());
  rd_kafka_destroy(rk);
  return {crv_fps, raw_mps};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s KAFKA_DIR [FRAMES] [TICKS_PER_MESSAGE]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const uint64_t frames = argc > 2 ? std::stoull(argv[2]) : 2'000'000;
  const int ticks = argc > 3 ? std::stoi(argv[3]) : 50;
  std::string brokers;
  std::ifstream(dir + "/bootstrap") >> brokers;
  auto model = LoadModel(std::string(CRV_SOURCE_DIR) + "/config/models/default.model.json");
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().message().c_str());
    return 2;
  }
  std::printf("Kafka throughput (broker %s, %llu frames, %d ticks x 4 vCPUs per message)\n", brokers.c_str(),
              static_cast<unsigned long long>(frames), ticks);
  const double perf = PerfTool(dir, 2'000'000);
  const E2E e2e = EndToEnd(brokers, frames, ticks, *model);
  std::printf("  kafka-producer-perf-test, 300 B records      %12.0f records/s\n", perf);
  std::printf("  crv end to end (publish -> classify)         %12.0f frames/s  (%.1f MB/s of batches)\n",
              e2e.frames_per_s, e2e.mb_per_s);
  std::printf("  ratio crv frames/s : perf-tool records/s     %12.2f\n", perf > 0 ? e2e.frames_per_s / perf : 0.0);
  const auto [crv_fps, raw_mps] = ProducerOnMock(frames, ticks);
  std::printf("  mock cluster: crv producer                   %12.0f frames/s\n", crv_fps);
  std::printf("  mock cluster: raw librdkafka, 300 B messages %12.0f messages/s\n", raw_mps);
  std::printf("  ratio                                        %12.2f\n", crv_fps / raw_mps);
  return 0;
}
