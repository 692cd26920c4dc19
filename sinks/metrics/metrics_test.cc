#include "sinks/metrics/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "core/features.h"
#include "tests/http_get.h"

namespace crv {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

#if CRV_WITH_PROMETHEUS

// Number of series of `family` (lines starting with "family{" or "family ").
int Series(const std::string& text, const std::string& family) {
  int n = 0;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (l.rfind(family + "{", 0) == 0 || l.rfind(family + " ", 0) == 0) ++n;
  }
  return n;
}

TEST(Metrics, CountersStartAtZeroAndAdd) {
  Metrics m;
  EXPECT_THAT(m.Serialize(), HasSubstr("crv_frames_sampled_total 0"));
  m.FramesSampled(4);
  m.FramesSampled(4);
  m.FramesPublished(8);
  m.TicksMissed(2);
  m.BatchesInvalid(1);
  m.FramesDropped("queue_full", 3);
  m.FramesDropped("queue_full", 1);
  const std::string t = m.Serialize();
  EXPECT_THAT(t, HasSubstr("crv_frames_sampled_total 8"));
  EXPECT_THAT(t, HasSubstr("crv_frames_published_total 8"));
  EXPECT_THAT(t, HasSubstr("crv_sampling_ticks_missed_total 2"));
  EXPECT_THAT(t, HasSubstr("crv_frame_batches_invalid_total 1"));
  EXPECT_THAT(t, HasSubstr("crv_frames_dropped_total{reason=\"queue_full\"} 4"));
}

TEST(Metrics, OneStateSeriesPerVm) {
  Metrics m;
  m.BootStarted("vm1", "booting", 1'000'000'000'000);
  m.StateChanged("vm1", "boot_success", 1'010'000'000'000);
  m.BootStarted("vm2", "booting", 1'000'000'000'000);
  const std::string t = m.Serialize();
  EXPECT_EQ(Series(t, "crv_vm_state"), 2);
  EXPECT_THAT(t, HasSubstr("crv_vm_state{state=\"boot_success\",vm=\"vm1\"} 1"));
  EXPECT_THAT(t, Not(HasSubstr("crv_vm_state{state=\"booting\",vm=\"vm1\"}")));
  EXPECT_THAT(t, HasSubstr("crv_vm_state_entered_timestamp_seconds{state=\"boot_success\",vm=\"vm1\"} 1010"));
  EXPECT_THAT(t, HasSubstr("crv_state_transitions_total{state=\"booting\"} 2"));
  EXPECT_THAT(t, HasSubstr("crv_state_transitions_total{state=\"boot_success\"} 1"));
  EXPECT_THAT(t, HasSubstr("crv_vms_watched 2"));
}

TEST(Metrics, VerdictEndsTheBootAndReplacesTheLastOutcome) {
  Metrics m;
  m.BootStarted("vm1", "booting", 100'000'000'000);
  EXPECT_EQ(Series(m.Serialize(), "crv_vm_boot_started_timestamp_seconds"), 1);
  m.Verdict("vm1", "failure", "kernel_panic", 7.5, 107'500'000'000);
  std::string t = m.Serialize();
  EXPECT_EQ(Series(t, "crv_vm_boot_started_timestamp_seconds"), 0);
  EXPECT_THAT(t, HasSubstr("crv_vm_boot_outcome{category=\"kernel_panic\",outcome=\"failure\",vm=\"vm1\"} 1"));
  EXPECT_THAT(t, HasSubstr("crv_verdicts_total{category=\"kernel_panic\",outcome=\"failure\"} 1"));
  EXPECT_THAT(t, HasSubstr("crv_boot_duration_seconds_bucket{outcome=\"failure\",le=\"10\"} 1"));
  EXPECT_THAT(t, HasSubstr("crv_boot_duration_seconds_bucket{outcome=\"failure\",le=\"5\"} 0"));
  // The next boot succeeds: one outcome series, the new one.
  m.BootStarted("vm1", "booting", 200'000'000'000);
  m.Verdict("vm1", "success", "", 3, 203'000'000'000);
  t = m.Serialize();
  EXPECT_EQ(Series(t, "crv_vm_boot_outcome"), 1);
  EXPECT_THAT(t, HasSubstr("crv_vm_boot_outcome{category=\"\",outcome=\"success\",vm=\"vm1\"} 1"));
}

TEST(Metrics, ForgetVmRemovesItsSeries) {
  Metrics m;
  m.BootStarted("gone", "booting", 1);
  m.Verdict("gone", "success", "", 1, 2);
  m.StateChanged("gone", "boot_success", 3);
  m.BootStarted("stays", "booting", 1);
  m.ForgetVm("gone");
  m.ForgetVm("never-seen");
  const std::string t = m.Serialize();
  EXPECT_THAT(t, Not(HasSubstr("vm=\"gone\"")));
  EXPECT_THAT(t, HasSubstr("vm=\"stays\""));
  EXPECT_THAT(t, HasSubstr("crv_vms_watched 1"));
  // Counters keep their history: they carry no VM label.
  EXPECT_THAT(t, HasSubstr("crv_verdicts_total{category=\"\",outcome=\"success\"} 1"));
}

TEST(Metrics, ActionsAndLag) {
  Metrics m;
  m.Screenshot(0.02, true);
  m.Screenshot(0.5, false);
  m.Ocr(0.3, true);
  m.PipelineLag(0.25);
  m.LastFrameAt(1'700'000'000'000'000'000);
  const std::string t = m.Serialize();
  EXPECT_THAT(t, HasSubstr("crv_screenshot_duration_seconds_count 2"));
  EXPECT_THAT(t, HasSubstr("crv_screenshot_failures_total 1"));
  EXPECT_THAT(t, HasSubstr("crv_ocr_duration_seconds_count 1"));
  EXPECT_THAT(t, HasSubstr("crv_ocr_failures_total 0"));
  EXPECT_THAT(t, HasSubstr("crv_pipeline_lag_seconds 0.25"));
  EXPECT_THAT(t, HasSubstr("crv_last_frame_timestamp_seconds 1700000000"));
}

TEST(MetricsServer, ServesOnAnEphemeralLoopbackPort) {
  Metrics m;
  m.FramesSampled(42);
  auto s = MetricsServer::Start(m, {"127.0.0.1:0", "", ""});
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_GT((*s)->port(), 0);
  EXPECT_EQ((*s)->url(), "http://127.0.0.1:" + std::to_string((*s)->port()) + "/metrics");
  auto r = testing::HttpGet((*s)->port(), "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("crv_frames_sampled_total 42"));
}

TEST(MetricsServer, BasicAuthenticationIsEnforced) {
  Metrics m;
  auto s = MetricsServer::Start(m, {"127.0.0.1:0", "scraper", "s3cret"});
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(testing::HttpGet((*s)->port(), "/metrics").status, 401);
  EXPECT_EQ(testing::HttpGet((*s)->port(), "/metrics", "scraper:wrong").status, 401);
  auto r = testing::HttpGet((*s)->port(), "/metrics", "scraper:s3cret");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("crv_frames_sampled_total"));
}

TEST(MetricsServer, ABusyPortIsAClearError) {
  Metrics m;
  auto a = MetricsServer::Start(m, {"127.0.0.1:0", "", ""});
  ASSERT_TRUE(a.ok());
  auto b = MetricsServer::Start(m, {"127.0.0.1:" + std::to_string((*a)->port()), "", ""});
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(b.status().message(), HasSubstr("cannot serve metrics on 127.0.0.1:"));
  EXPECT_FALSE(MetricsServer::Start(m, {"no-port", "", ""}).ok());
}

// Scrapes while another thread updates at full speed: updates never wait for
// a scrape for long, and every scrape is well formed.
TEST(MetricsServer, ScrapingDoesNotStallUpdates) {
  Metrics m;
  auto s = MetricsServer::Start(m, {"127.0.0.1:0", "", ""});
  ASSERT_TRUE(s.ok());
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> updates{0};
  std::thread writer([&] {
    int i = 0;
    while (!stop.load()) {
      m.FramesSampled(1);
      ++i;
      m.StateChanged("vm" + std::to_string(i % 8), i % 2 ? "booting" : "boot_success", i);
      updates.fetch_add(1);
    }
  });
  for (int i = 0; i < 50; ++i) {
    auto r = testing::HttpGet((*s)->port(), "/metrics");
    ASSERT_EQ(r.status, 200);
    ASSERT_THAT(r.body, HasSubstr("crv_frames_sampled_total"));
  }
  stop.store(true);
  writer.join();
  EXPECT_GT(updates.load(), 50u);
}

// The alert rules and the dashboard name only metrics crv exposes.
TEST(Metrics, RulesAndDashboardUseExistingMetrics) {
  std::set<std::string> known;
  for (const auto& n : Metrics::FamilyNames()) {
    known.insert(n);
    for (const char* suffix : {"_bucket", "_sum", "_count"}) known.insert(n + suffix);
  }
  for (const std::string file : {"config/prometheus/alerts.yml", "config/grafana/crv-fleet.json"}) {
    std::ifstream in(std::string(CRV_SOURCE_DIR) + "/" + file);
    ASSERT_TRUE(in) << file;
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    std::regex name("crv_[a-z_]+");
    int found = 0;
    for (std::sregex_iterator it(text.begin(), text.end(), name), end; it != end; ++it) {
      const std::string n = it->str();
      if (n.rfind("crv_vm_", 0) == 0 || n.rfind("crv_", 0) == 0) {
        ++found;
        EXPECT_TRUE(known.count(n)) << file << " uses " << n << ", which crv does not expose";
      }
    }
    EXPECT_GT(found, 5) << file;
  }
}

#else

TEST(MetricsServer, WithoutPrometheusSaysSo) {
  Metrics m;
  auto s = MetricsServer::Start(m, {});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("without prometheus-cpp"));
}

#endif

TEST(MetricsAuthFile, ReadsUserAndPasswordAndRefusesLoosePermissions) {
  const std::string path = ::testing::TempDir() + "/crv-metrics-auth";
  { std::ofstream(path) << "scraper:pa:ss\n"; }
  chmod(path.c_str(), 0644);
  MetricsServerOptions o;
  Status s = LoadBasicAuthFile(path, &o);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("chmod 600"));
  chmod(path.c_str(), 0600);
  ASSERT_TRUE(LoadBasicAuthFile(path, &o).ok());
  EXPECT_EQ(o.user, "scraper");
  EXPECT_EQ(o.password, "pa:ss");
  { std::ofstream(path) << "nocolon\n"; }
  EXPECT_THAT(LoadBasicAuthFile(path, &o).message(), HasSubstr("USER:PASSWORD"));
  EXPECT_FALSE(LoadBasicAuthFile(path + ".missing", &o).ok());
}

}  // namespace
}  // namespace crv
