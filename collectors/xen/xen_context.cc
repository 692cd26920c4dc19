#include "collectors/xen/xen_context.h"

namespace crv {

RegisterFrame FrameFromHvmCpu(const struct hvm_hw_cpu& c, uint16_t vcpu, bool blocked) {
  RegisterFrame f;
  f.vcpu = vcpu;
  auto& r = f.regs;
  r[kRax] = c.rax;
  r[kRbx] = c.rbx;
  r[kRcx] = c.rcx;
  r[kRdx] = c.rdx;
  r[kRsi] = c.rsi;
  r[kRdi] = c.rdi;
  r[kRbp] = c.rbp;
  r[kRsp] = c.rsp;
  r[kR8] = c.r8;
  r[kR9] = c.r9;
  r[kR10] = c.r10;
  r[kR11] = c.r11;
  r[kR12] = c.r12;
  r[kR13] = c.r13;
  r[kR14] = c.r14;
  r[kR15] = c.r15;
  r[kRip] = c.rip;
  r[kRflags] = c.rflags;
  r[kCr0] = c.cr0;
  r[kCr2] = c.cr2;
  r[kCr3] = c.cr3;
  r[kCr4] = c.cr4;
  r[kEfer] = c.msr_efer;
  r[kCs] = c.cs_sel;
  r[kDs] = c.ds_sel;
  r[kEs] = c.es_sel;
  r[kFs] = c.fs_sel;
  r[kGs] = c.gs_sel;
  r[kSs] = c.ss_sel;
  f.cpl = static_cast<uint8_t>((c.ss_arbytes >> 5) & 3);
  f.halted = blocked;
  return f;
}

RegisterFrame FrameFromPvContext(const vcpu_guest_context_x86_64_t& c, uint16_t vcpu, bool blocked) {
  RegisterFrame f;
  f.vcpu = vcpu;
  const auto& u = c.user_regs;
  auto& r = f.regs;
  r[kRax] = u.rax;
  r[kRbx] = u.rbx;
  r[kRcx] = u.rcx;
  r[kRdx] = u.rdx;
  r[kRsi] = u.rsi;
  r[kRdi] = u.rdi;
  r[kRbp] = u.rbp;
  r[kRsp] = u.rsp;
  r[kR8] = u.r8;
  r[kR9] = u.r9;
  r[kR10] = u.r10;
  r[kR11] = u.r11;
  r[kR12] = u.r12;
  r[kR13] = u.r13;
  r[kR14] = u.r14;
  r[kR15] = u.r15;
  r[kRip] = u.rip;
  r[kRflags] = u.saved_upcall_mask != 0 ? (u.rflags & ~kRflagsIf) : (u.rflags | kRflagsIf);
  r[kCr0] = c.ctrlreg[0];
  r[kCr2] = c.ctrlreg[2];
  r[kCr3] = c.ctrlreg[3];
  r[kCr4] = c.ctrlreg[4];
  r[kEfer] = kEferLma | kEferLme;
  r[kCs] = u.cs;
  r[kDs] = u.ds;
  r[kEs] = u.es;
  r[kFs] = u.fs;
  r[kGs] = u.gs;
  r[kSs] = u.ss;
  f.cpl = (c.flags & VGCF_in_kernel_X86_64) != 0 ? 0 : 3;
  f.halted = blocked;
  return f;
}

}  // namespace crv
