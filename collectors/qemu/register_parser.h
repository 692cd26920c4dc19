// Parser of QEMU's HMP `info registers -a` reply (x86 targets) into frames.
//
// Contract: returns one RegisterFrame per "CPU#N" block, in reply order, with
// vcpu, registers, CPL and the halted flag set (seq and timestamp are the
// sampler's job). Both of QEMU's layouts are read: the 64-bit one (RAX, RIP,
// RFL) and the 32-bit one used before long mode (EAX, EIP, EFL). A reply with
// no CPU, a CPU missing RIP/RSP/RFLAGS/CR0/CR3, an over-long number or a
// repeated CPU index is an error naming the CPU and the field.
// Thread-safety: a pure function.
#pragma once

#include <string_view>
#include <vector>

#include "core/status.h"
#include "schemas/register_frame.h"

namespace crv {

Result<std::vector<RegisterFrame>> ParseInfoRegisters(std::string_view text);

// Caps the work done on hostile input: more CPUs than this is an error.
constexpr size_t kMaxParsedCpus = 1024;

}  // namespace crv
