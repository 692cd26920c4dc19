// RegisterSource: the collector interface. A backend (QEMU/QMP, libvirt, Xen,
// a replay file) returns one consistent snapshot of every vCPU of one VM.
//
// Contract: Snapshot() returns one frame per vCPU with vcpu, registers, CPL
// and halted set; seq and timestamp are stamped by the Sampler. A VM that is
// gone gives kUnavailable with the reason; a reply that cannot be parsed gives
// kInvalidArgument (the sampler counts it and goes on).
// Thread-safety: a source is used by one thread at a time.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "schemas/register_frame.h"

namespace crv {

class RegisterSource {
 public:
  virtual ~RegisterSource() = default;
  virtual Result<std::vector<RegisterFrame>> Snapshot() = 0;
  // Identifies the VM in frames and logs.
  virtual const std::string& vm_id() const = 0;
};

}  // namespace crv
