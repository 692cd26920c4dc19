// Conversion of Xen's vCPU context records into crv register frames, with
// the same fields and meaning as the QEMU backend. Only Xen builds include
// this header (it needs the Xen public headers, which need GNU C++).
//
// - HVM guests: the HVM save record of type CPU (struct hvm_hw_cpu), read with
//   xc_domain_hvm_getcontext_partial. CPL is the DPL of SS (as QEMU reports
//   it); EFER is msr_efer.
// - PV guests (64-bit): the vCPU context (vcpu_guest_context_x86_64_t) from
//   xc_vcpu_getcontext. A 64-bit PV kernel runs in ring 3, so CPL comes from
//   VGCF_in_kernel (0 in the kernel, 3 in user space); the interrupt flag is
//   !saved_upcall_mask (event delivery is a PV guest's interrupt flag); EFER
//   is not part of the context and reads as long mode active and enabled,
//   which a 64-bit PV guest always is.
// - halted: the vCPU is blocked waiting for an event (xc_vcpu_getinfo), which
//   is what HLT does to an HVM vCPU and what a PV idle loop does.
#pragma once

// xenctrl.h first: it defines what the HVM save-record header relies on.
#include <xenctrl.h>
// (kept apart so include sorting leaves the order alone)
#include <xen/hvm/save.h>

#include "schemas/register_frame.h"

namespace crv {

RegisterFrame FrameFromHvmCpu(const struct hvm_hw_cpu& cpu, uint16_t vcpu, bool blocked);
RegisterFrame FrameFromPvContext(const vcpu_guest_context_x86_64_t& ctx, uint16_t vcpu, bool blocked);

constexpr uint64_t kEferLme = 1u << 8;

}  // namespace crv
