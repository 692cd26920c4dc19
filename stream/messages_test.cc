#include "stream/messages.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace crv {
namespace {

using ::testing::HasSubstr;

std::span<const uint8_t> B(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

TEST(StreamMessages, RequestRoundTrip) {
  ActionRequest r;
  r.request_id = "id";
  r.vm = "vm-1";
  r.host = "hv";
  r.boot_id = 18'000'000'000'000'000'000ull;
  r.action = "confirm";
  r.t_ns = 42;
  const std::string j = r.ToJson();
  auto back = ParseActionRequest(B(j));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->vm, "vm-1");
  EXPECT_EQ(back->boot_id, r.boot_id);
  EXPECT_EQ(back->t_ns, 42);
}

TEST(StreamMessages, BadRequestsNameTheField) {
  EXPECT_THAT(ParseActionRequest(B("nope")).status().message(), HasSubstr("not JSON"));
  EXPECT_THAT(ParseActionRequest(B("[1]")).status().message(), HasSubstr("not a JSON object"));
  EXPECT_THAT(ParseActionRequest(B(R"({"action":"confirm"})")).status().message(), HasSubstr("no \"vm\""));
  EXPECT_THAT(ParseActionRequest(B(R"({"vm":5,"action":"confirm"})")).status().message(),
              HasSubstr("\"vm\" is not a string"));
  EXPECT_THAT(ParseActionRequest(B(R"({"vm":"a","action":"reboot"})")).status().message(),
              HasSubstr("unknown action \"reboot\""));
  EXPECT_THAT(ParseActionRequest(B(R"({"vm":"a","action":"confirm","boot_id":-1})")).status().message(),
              HasSubstr("\"boot_id\" is negative"));
  EXPECT_THAT(ParseActionRequest(B(R"({"vm":"a","action":"confirm","boot_id":"7"})")).status().message(),
              HasSubstr("\"boot_id\" is not an integer"));
}

TEST(StreamMessages, ResultRoundTripAndTypes) {
  ActionResult r;
  r.vm = "panic";
  r.action = "screenshot";
  r.ok = r.settled = r.text_ok = true;
  r.ocr_text = "Kernel panic - not syncing\n";
  r.failure_category = "kernel_panic";
  auto back = ParseActionResult(B(r.ToJson()));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->settled);
  EXPECT_EQ(back->ocr_text, r.ocr_text);
  EXPECT_THAT(ParseActionResult(B(R"({"vm":"a","action":"confirm","ok":"yes"})")).status().message(),
              HasSubstr("\"ok\" is not true/false"));
}

TEST(StreamMessages, StateEventKey) {
  auto k = ParseStateEventKey(B(R"({"event_key":"vm/1/verdict/success","kind":"verdict"})"));
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(*k, "vm/1/verdict/success");
  EXPECT_FALSE(ParseStateEventKey(B(R"({"event_key":3})")).ok());
}

}  // namespace
}  // namespace crv
