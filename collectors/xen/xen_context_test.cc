// Xen context records (built from the public headers with known values)
// become the same frames the QEMU backend produces.
#include "collectors/xen/xen_context.h"

#include <gtest/gtest.h>

namespace crv {
namespace {

TEST(XenContext, HvmCpuRecordToFrame) {
  struct hvm_hw_cpu c {};
  uint64_t v = 0x1000;
  for (uint64_t* r : {&c.rax, &c.rbx, &c.rcx, &c.rdx, &c.rsi, &c.rdi, &c.rbp, &c.rsp, &c.r8, &c.r9, &c.r10, &c.r11,
                      &c.r12, &c.r13, &c.r14, &c.r15}) {
    *r = v++;
  }
  c.rip = 0xffffffff81000000;
  c.rflags = 0x246;
  c.cr0 = 0x80050033;
  c.cr2 = 0x7f0000001000;
  c.cr3 = 0x10a000;
  c.cr4 = 0x3506f0;
  c.msr_efer = 0xd01;
  c.cs_sel = 0x10;
  c.ds_sel = 0x18;
  c.es_sel = 0x18;
  c.fs_sel = 0;
  c.gs_sel = 0;
  c.ss_sel = 0x2b;
  c.ss_arbytes = 0xcf3;  // data, DPL 3, present: user mode
  c.dr7 = 0x400;         // not part of a frame
  const RegisterFrame f = FrameFromHvmCpu(c, 3, true);
  EXPECT_EQ(f.vcpu, 3);
  EXPECT_EQ(f.regs[kRax], 0x1000u);
  EXPECT_EQ(f.regs[kRbx], 0x1001u);
  EXPECT_EQ(f.regs[kRcx], 0x1002u);
  EXPECT_EQ(f.regs[kRdx], 0x1003u);
  EXPECT_EQ(f.regs[kRsi], 0x1004u);
  EXPECT_EQ(f.regs[kRdi], 0x1005u);
  EXPECT_EQ(f.regs[kRbp], 0x1006u);
  EXPECT_EQ(f.regs[kRsp], 0x1007u);
  EXPECT_EQ(f.regs[kR8], 0x1008u);
  EXPECT_EQ(f.regs[kR15], 0x100fu);
  EXPECT_EQ(f.regs[kRip], 0xffffffff81000000u);
  EXPECT_EQ(f.regs[kRflags], 0x246u);
  EXPECT_EQ(f.regs[kCr0], 0x80050033u);
  EXPECT_EQ(f.regs[kCr2], 0x7f0000001000u);
  EXPECT_EQ(f.regs[kCr3], 0x10a000u);
  EXPECT_EQ(f.regs[kCr4], 0x3506f0u);
  EXPECT_EQ(f.regs[kEfer], 0xd01u);
  EXPECT_EQ(f.regs[kCs], 0x10u);
  EXPECT_EQ(f.regs[kDs], 0x18u);
  EXPECT_EQ(f.regs[kEs], 0x18u);
  EXPECT_EQ(f.regs[kSs], 0x2bu);
  EXPECT_EQ(f.cpl, 3);
  EXPECT_TRUE(f.halted);
  // Long mode with paging, as the QEMU backend would report it.
  EXPECT_NE(f.regs[kCr0] & kCr0Pg, 0u);
  EXPECT_NE(f.regs[kEfer] & kEferLma, 0u);
}

TEST(XenContext, HvmRealModeAndKernelCpl) {
  struct hvm_hw_cpu c {};
  c.rip = 0xfff0;
  c.cr0 = 0x60000010;   // firmware: no PE, no PG
  c.ss_arbytes = 0x93;  // DPL 0
  c.cs_sel = 0xf000;
  const RegisterFrame f = FrameFromHvmCpu(c, 0, false);
  EXPECT_EQ(f.cpl, 0);
  EXPECT_FALSE(f.halted);
  EXPECT_EQ(f.regs[kCr0] & kCr0Pe, 0u);
  EXPECT_EQ(f.regs[kCs], 0xf000u);
  EXPECT_EQ(f.regs[kEfer], 0u);
}

TEST(XenContext, PvContextToFrame) {
  vcpu_guest_context_any_t any{};
  vcpu_guest_context_x86_64_t& c = any.x64;
  c.user_regs.rax = 1;
  c.user_regs.rbx = 2;
  c.user_regs.rcx = 3;
  c.user_regs.rdx = 4;
  c.user_regs.rsi = 5;
  c.user_regs.rdi = 6;
  c.user_regs.rbp = 7;
  c.user_regs.rsp = 8;
  c.user_regs.r8 = 9;
  c.user_regs.r15 = 16;
  c.user_regs.rip = 0xffffffff81234567;
  c.user_regs.rflags = 0x202;         // IF set in the saved flags...
  c.user_regs.saved_upcall_mask = 1;  // ...but events are masked: interrupts off
  c.user_regs.cs = 0xe033;
  c.user_regs.ss = 0xe02b;
  c.user_regs.ds = 0;
  c.ctrlreg[0] = 0x8005003b;
  c.ctrlreg[2] = 0x1234;
  c.ctrlreg[3] = 0x2000000;
  c.ctrlreg[4] = 0x2660;
  c.flags = VGCF_in_kernel_X86_64 | VGCF_online_X86_64;
  RegisterFrame f = FrameFromPvContext(c, 1, false);
  EXPECT_EQ(f.vcpu, 1);
  EXPECT_EQ(f.regs[kRax], 1u);
  EXPECT_EQ(f.regs[kRbx], 2u);
  EXPECT_EQ(f.regs[kRcx], 3u);
  EXPECT_EQ(f.regs[kRdx], 4u);
  EXPECT_EQ(f.regs[kRsi], 5u);
  EXPECT_EQ(f.regs[kRdi], 6u);
  EXPECT_EQ(f.regs[kRbp], 7u);
  EXPECT_EQ(f.regs[kRsp], 8u);
  EXPECT_EQ(f.regs[kR8], 9u);
  EXPECT_EQ(f.regs[kR15], 16u);
  EXPECT_EQ(f.regs[kRip], 0xffffffff81234567u);
  EXPECT_EQ(f.regs[kRflags] & kRflagsIf, 0u);
  EXPECT_EQ(f.regs[kCr0], 0x8005003bu);
  EXPECT_EQ(f.regs[kCr2], 0x1234u);
  EXPECT_EQ(f.regs[kCr3], 0x2000000u);
  EXPECT_EQ(f.regs[kCr4], 0x2660u);
  EXPECT_EQ(f.regs[kEfer], kEferLma | kEferLme);
  EXPECT_EQ(f.regs[kCs], 0xe033u);
  EXPECT_EQ(f.regs[kSs], 0xe02bu);
  EXPECT_EQ(f.cpl, 0);  // in the kernel, although a PV64 kernel runs in ring 3

  c.flags = VGCF_online_X86_64;  // user space
  c.user_regs.saved_upcall_mask = 0;
  c.user_regs.rflags = 0x2;
  f = FrameFromPvContext(c, 1, true);
  EXPECT_EQ(f.cpl, 3);
  EXPECT_NE(f.regs[kRflags] & kRflagsIf, 0u);
  EXPECT_TRUE(f.halted);
}

}  // namespace
}  // namespace crv
