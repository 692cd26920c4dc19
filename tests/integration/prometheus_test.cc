// Real Prometheus (Debian's package) scrapes a running `crv verify` on
// loopback while the panic fixture guest is verified; the boot-failure alert
// of config/prometheus/alerts.yml must fire, as Prometheus's HTTP API shows.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/child_process.h"
#include "tests/http_get.h"

namespace crv {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

using testing::Child;
using testing::ReadAll;

TEST(PrometheusTest, BootFailureAlertFiresForThePanicGuest) {
  if (!fs::exists(PROMETHEUS_BINARY)) GTEST_FAIL() << "Prometheus is not installed: " << PROMETHEUS_BINARY;
  const std::string dir = ::testing::TempDir() + "/crv-prometheus-" + std::to_string(getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);

  // crv verify with metrics on an ephemeral loopback port; it names the port
  // on stderr and keeps serving after its verdict.
  Child crv(std::string(CRV_BINARY) + " verify --json --accel tcg --guest panic --guests-dir " +
                CRV_GUESTS_DIR_DEFAULT + " --max-boot-time 120 --out " + dir +
                "/verify --metrics-listen 127.0.0.1:0 --metrics-linger 120",
            dir + "/crv.out", dir + "/crv.err");
  int crv_port = 0;
  const std::regex url(R"(metrics: http://127\.0\.0\.1:(\d+)/metrics)");
  for (int i = 0; i < 200 && crv_port == 0; ++i) {
    std::smatch m;
    const std::string err = ReadAll(dir + "/crv.err");
    if (std::regex_search(err, m, url)) crv_port = std::stoi(m[1]);
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_GT(crv_port, 0) << ReadAll(dir + "/crv.err");

  // Prometheus scraping it every second, with crv's alert rules.
  std::ofstream(dir + "/prometheus.yml") << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                                         << "rule_files:\n  - " << CRV_SOURCE_DIR << "/config/prometheus/alerts.yml\n"
                                         << "scrape_configs:\n  - job_name: crv-verify\n    static_configs:\n"
                                         << "      - targets: ['127.0.0.1:" << crv_port << "']\n";
  const int prom_port = testing::FreeLoopbackPort();
  Child prometheus(std::string(PROMETHEUS_BINARY) + " --config.file=" + dir + "/prometheus.yml --storage.tsdb.path=" +
                       dir + "/data --web.listen-address=127.0.0.1:" + std::to_string(prom_port),
                   dir + "/prometheus.out", dir + "/prometheus.err");
  bool ready = false;
  for (int i = 0; i < 300 && !ready; ++i) {
    ready = testing::HttpGet(prom_port, "/-/ready").status == 200;
    if (!ready) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(ready) << ReadAll(dir + "/prometheus.err");

  // The scrape target is up, and the alert fires once crv's verdict is in.
  nlohmann::json firing;
  bool up = false;
  const auto deadline = std::chrono::steady_clock::now() + 150s;
  while (std::chrono::steady_clock::now() < deadline && firing.is_null()) {
    auto t = nlohmann::json::parse(testing::HttpGet(prom_port, "/api/v1/targets").body, nullptr, false);
    if (t.is_object() && t["data"]["activeTargets"].size() == 1) up = t["data"]["activeTargets"][0]["health"] == "up";
    auto a = nlohmann::json::parse(testing::HttpGet(prom_port, "/api/v1/alerts").body, nullptr, false);
    if (a.is_object()) {
      for (const auto& alert : a["data"]["alerts"]) {
        if (alert["labels"]["alertname"] == "CrvBootFailed" && alert["state"] == "firing") firing = alert;
      }
    }
    if (firing.is_null()) std::this_thread::sleep_for(500ms);
  }
  ASSERT_FALSE(firing.is_null()) << "no CrvBootFailed alert; crv stderr:\n"
                                 << ReadAll(dir + "/crv.err") << "\nmetrics:\n"
                                 << testing::HttpGet(crv_port, "/metrics").body;
  EXPECT_TRUE(up);
  EXPECT_EQ(firing["labels"]["vm"], "panic");
  EXPECT_EQ(firing["labels"]["outcome"], "failure");
  EXPECT_EQ(firing["labels"]["category"], "kernel_panic");
  EXPECT_EQ(firing["labels"]["severity"], "critical");
  EXPECT_NE(firing["annotations"]["summary"].get<std::string>().find("panic failed to boot"), std::string::npos);

  // What Prometheus stored agrees: frames flowed, a screenshot was taken, and
  // no other boot alert fired.
  auto q = nlohmann::json::parse(testing::HttpGet(prom_port, "/api/v1/query?query=crv_frames_consumed_total%3E0").body,
                                 nullptr, false);
  ASSERT_TRUE(q.is_object());
  EXPECT_EQ(q["data"]["result"].size(), 1u) << q.dump();
  const std::string metrics = testing::HttpGet(crv_port, "/metrics").body;
  EXPECT_NE(metrics.find("crv_verdicts_total{category=\"kernel_panic\",outcome=\"failure\"} 1"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("crv_state_transitions_total{state=\"boot_failure\"} 1"), std::string::npos) << metrics;
  auto alerts = nlohmann::json::parse(testing::HttpGet(prom_port, "/api/v1/alerts").body, nullptr, false);
  for (const auto& alert : alerts["data"]["alerts"]) {
    EXPECT_EQ(alert["labels"]["alertname"], "CrvBootFailed") << alert.dump();
  }
}

}  // namespace
}  // namespace crv
