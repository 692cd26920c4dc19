#include "collectors/qemu/register_parser.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace crv {
namespace {

std::string ReadData(const std::string& name) {
  std::ifstream in(std::string(CRV_TEST_DATA) + "/" + name);
  EXPECT_TRUE(in) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Replies captured from qemu-system-x86_64 7.2 running the fixture guests.
TEST(RegisterParserTest, IdleLongModeGuest) {
  auto r = ParseInfoRegisters(ReadData("ok-12s.txt"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  const RegisterFrame& f = (*r)[0];
  EXPECT_EQ(f.vcpu, 0);
  EXPECT_EQ(f.regs[kRip], 0xffffffff81c592ebull);
  EXPECT_EQ(f.regs[kRflags], 0x246u);
  EXPECT_TRUE(f.regs[kRflags] & kRflagsIf);
  EXPECT_EQ(f.regs[kCs], 0x10u);
  EXPECT_EQ(f.regs[kSs], 0x18u);
  EXPECT_EQ(f.regs[kCr0], 0x80050033u);
  EXPECT_TRUE(f.regs[kEfer] & kEferLma);
  EXPECT_EQ(f.cpl, 0);
  EXPECT_TRUE(f.halted);
}

TEST(RegisterParserTest, RealModeFirmwareUses32BitLayout) {
  auto r = ParseInfoRegisters(ReadData("ok-0s.txt"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const RegisterFrame& f = (*r)[0];
  EXPECT_EQ(f.regs[kRax], 0x720u);
  EXPECT_EQ(f.regs[kRip], 0x2bc2u);
  EXPECT_EQ(f.regs[kRflags], 0x46u);
  EXPECT_EQ(f.regs[kCs], 0xc000u);
  EXPECT_EQ(f.regs[kEs], 0xb800u);
  EXPECT_EQ(f.regs[kCr0] & kCr0Pe, 0u);  // real mode
  EXPECT_EQ(f.regs[kEfer], 0u);
  EXPECT_FALSE(f.halted);
}

TEST(RegisterParserTest, TwoVcpus) {
  for (const char* file : {"smp2-3s.txt", "smp2-14s.txt"}) {
    auto r = ParseInfoRegisters(ReadData(file));
    ASSERT_TRUE(r.ok()) << file << ": " << r.status().ToString();
    ASSERT_EQ(r->size(), 2u) << file;
    EXPECT_EQ((*r)[0].vcpu, 0);
    EXPECT_EQ((*r)[1].vcpu, 1);
  }
  // While vCPU 0 decompresses the kernel, the application processor still
  // sits halted in firmware.
  auto early = ParseInfoRegisters(ReadData("smp2-3s.txt"));
  EXPECT_EQ((*early)[1].regs[kRip], 0xfd09au);
  EXPECT_TRUE((*early)[1].halted);
}

TEST(RegisterParserTest, PanickedGuest) {
  auto r = ParseInfoRegisters(ReadData("panic-12s.txt"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].regs[kRip], 0xffffffff999f77a3ull);
  EXPECT_FALSE((*r)[0].halted);
}

TEST(RegisterParserTest, OddButValidInput) {
  // No "CPU#" header (plain `info registers`), CRLF line ends, R8 with the
  // space QEMU puts before '=', upper-case hex, a maximal value.
  const std::string text =
      "RAX=FFFFFFFFFFFFFFFF RBX=0 RCX=1 RDX=2\r\n"
      "R8 =0000000000000008 R9 =9\r\n"
      "RIP=ffffffff81000000 RFL=00000002 [-------] CPL=3 II=0 A20=1 SMM=0 HLT=0\r\n"
      "RSP=0000000000001000\r\n"
      "CS =0033 0000000000000000 ffffffff 00a0fb00 DPL=3 CS64 [-RA]\r\n"
      "CR0=80050033 CR2=0 CR3=1234000 CR4=6f0\r\n";
  auto r = ParseInfoRegisters(text);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const RegisterFrame& f = (*r)[0];
  EXPECT_EQ(f.regs[kRax], ~0ull);
  EXPECT_EQ(f.regs[kR8], 8u);
  EXPECT_EQ(f.regs[kR9], 9u);
  EXPECT_EQ(f.regs[kCs], 0x33u);
  EXPECT_EQ(f.cpl, 3);
  EXPECT_EQ(f.regs[kCr3], 0x1234000u);
}

TEST(RegisterParserTest, ErrorsNameTheProblem) {
  struct Case {
    std::string text, expect;
  } cases[] = {
      {"", "no CPU registers"},
      {"hello world\n", "no CPU registers"},
      {"CPU#0\nRAX=1 RSP=2 RFL=2 CR0=1 CR3=0\n", "CPU#0: no RIP"},
      {"CPU#0\nRIP=1 RSP=2 RFL=2 CR0=1 CR3=0\nCPU#0\nRIP=1 RSP=2 RFL=2 CR0=1 CR3=0\n", "CPU#0 appears twice"},
      {"CPU#1\nRIP=11112222333344445 RSP=2 RFL=2 CR0=1 CR3=0\n", "more than 16 hex digits"},
      {"CPU#x\n", "malformed CPU header"},
      {"CPU#99999\n", "beyond the limit"},
  };
  for (const auto& c : cases) {
    auto r = ParseInfoRegisters(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos)
        << "input: " << c.text << "\nmessage: " << r.status().message();
  }
}

}  // namespace
}  // namespace crv
