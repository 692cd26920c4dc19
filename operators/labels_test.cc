#include "operators/labels.h"

#include <gtest/gtest.h>

namespace crv {
namespace {

TEST(LabelsTest, RuleParsing) {
  auto r = ParseLabelRule("login: *$=boot_success");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->pattern, "login: *$");
  EXPECT_EQ(r->label, "boot_success");
  EXPECT_NE(ParseLabelRule("no-equals").status().message().find("not REGEX=LABEL"), std::string::npos);
  EXPECT_NE(ParseLabelRule("x=Bad Label").status().message().find("a-z, 0-9"), std::string::npos);
  EXPECT_NE(ParseLabelRule("(unclosed=x").status().message().find("bad regular expression"), std::string::npos);
}

TEST(LabelsTest, TimelineOverAWindow) {
  LabelTimeline t("booting");
  t.Change(100, "boot_success", "login:");
  t.Change(150, "boot_success", "again");  // no change
  t.Change(200, "app_loaded", "service");
  EXPECT_EQ(t.changes().size(), 2u);
  EXPECT_EQ(t.At(99), "booting");
  EXPECT_EQ(t.At(100), "boot_success");
  EXPECT_EQ(t.Over(0, 99), "booting");
  EXPECT_EQ(t.Over(50, 150), "");  // straddles the change at 100
  EXPECT_EQ(t.Over(100, 199), "boot_success");
  EXPECT_EQ(t.current(), "app_loaded");
}

TEST(LabelsTest, SerialLabelerReadsPromptsWithoutNewline) {
  std::vector<LabelRule> rules;
  for (const auto& s : DefaultLabelRules()) rules.push_back(*ParseLabelRule(s));
  LabelTimeline t;
  SerialLabeler l(rules, &t);
  std::string log = "[    0.1] Booting\ncrv-ok lo";
  l.Update(log, 10);
  EXPECT_EQ(t.current(), "booting");
  log += "gin: ";
  l.Update(log, 20);
  EXPECT_EQ(t.current(), "boot_success");
  EXPECT_EQ(t.changes()[0].t_ns, 20);

  LabelTimeline p;
  SerialLabeler lp(rules, &p);
  lp.Update("[ 2.5] Kernel panic - not syncing: VFS: Unable to mount root fs\n", 7);
  EXPECT_EQ(p.current(), "boot_failure");
}

}  // namespace
}  // namespace crv
