// Opens a RegisterSource from a description: the one place that knows every
// collector backend (QMP socket, libvirt domain, Xen domain, replay file).
#pragma once

#include <memory>
#include <string>

#include "collectors/register_source.h"

namespace crv {

struct SourceSpec {
  std::string qmp;      // QMP UNIX socket of a QEMU VM
  std::string libvirt;  // libvirt domain name or UUID
  std::string libvirt_uri = "qemu:///system";
  std::string xen;     // Xen domain name or id
  std::string replay;  // frame file
  std::string vm_id;   // overrides the backend's name for the VM
};

// Exactly one of qmp/libvirt/xen/replay must be set.
Result<std::unique_ptr<RegisterSource>> OpenSource(const SourceSpec& spec);

}  // namespace crv
