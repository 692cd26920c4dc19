#include "apps/daemon_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

namespace crv::app {
namespace {

using ::testing::HasSubstr;

std::string Write(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(DaemonConfig, DefaultsWithoutAFile) {
  auto c = LoadCollectConfig("");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->kafka.brokers, "127.0.0.1:9092");
  EXPECT_EQ(c->hz, 50);
  auto p = LoadProcessConfig("");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->group, "crv-process");
}

TEST(DaemonConfig, TheShippedExamplesLoad) {
  auto c = LoadCollectConfig(std::string(CRV_SOURCE_DIR) + "/config/collect.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->host, "hv-01");
  ASSERT_EQ(c->vms.size(), 2u);
  EXPECT_EQ(c->vms[0].libvirt, "web-01");
  EXPECT_EQ(c->vms[1].xen, "7");
  EXPECT_EQ(c->kafka.properties.at("compression.type"), "lz4");
  auto p = LoadProcessConfig(std::string(CRV_SOURCE_DIR) + "/config/process.yaml");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->states.success_states, (std::vector<std::string>{"boot_success", "app_loaded"}));
}

TEST(DaemonConfig, UnknownKeysAreNamedWithTheirLine) {
  auto c = LoadCollectConfig(Write("c1.yaml", "kafka:\n  bokers: x:1\n"));
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("c1.yaml:2: kafka.bokers is not a known key"));
  EXPECT_THAT(c.status().message(), HasSubstr("kafka.brokers"));
  auto v = LoadCollectConfig(Write("c2.yaml", "discovery:\n  vms:\n    - {id: a, qmpp: /x}\n"));
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.status().message(), HasSubstr("discovery.vms[].qmpp"));
}

TEST(DaemonConfig, BadValuesNameTheKey) {
  auto c = LoadCollectConfig(Write("c3.yaml", "sampling:\n  hz: fast\n"));
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("c3.yaml:2: sampling.hz has the wrong type"));
  c = LoadCollectConfig(Write("c4.yaml", "sampling:\n  hz: -3\n"));
  EXPECT_THAT(c.status().message(), HasSubstr("sampling.hz must be in"));
  c = LoadCollectConfig(Write("c5.yaml", "discovery:\n  vms:\n    - {id: a}\n"));
  EXPECT_THAT(c.status().message(), HasSubstr("exactly one of qmp, libvirt, xen"));
  c = LoadCollectConfig(Write("c6.yaml", "kafka: [1, 2\n"));
  EXPECT_THAT(c.status().message(), HasSubstr("not valid YAML"));
  c = LoadCollectConfig("/nonexistent.yaml");
  EXPECT_THAT(c.status().message(), HasSubstr("/nonexistent.yaml: cannot be read"));
  c = LoadCollectConfig(Write("c7.yaml", "discovery:\n  vms:\n    - {id: [1, 2], qmp: /x}\n"));
  EXPECT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("c7.yaml:3"));
  auto p = LoadProcessConfig(Write("p1.yaml", "window:\n  hop: 0\n"));
  EXPECT_THAT(p.status().message(), HasSubstr("window.hop must be at least 1"));
}

TEST(DaemonConfig, EveryKeyIsDocumented) {
  for (const auto* keys : {&CollectKeys(), &ProcessKeys()}) {
    const std::string help = DescribeKeys(*keys);
    for (const auto& k : *keys) {
      EXPECT_FALSE(k.doc.empty()) << k.path;
      EXPECT_THAT(help, HasSubstr(k.path));
    }
  }
}

}  // namespace
}  // namespace crv::app
