// Xen backend: domains of the Xen host crv runs in (dom0 or a control
// domain), register snapshots of their vCPUs through libxenctrl.
//
// libxenctrl is reached through a thin wrapper that loads it at run time
// (dlopen), so one crv binary runs on hosts without Xen: there, XenHost::Open
// fails with "Xen is not available on this host: <why>" and nothing else
// changes. A build without the Xen headers (CRV_WITH_XEN=OFF) says so the
// same way.
//
// Privileges: libxenctrl needs /dev/xen/privcmd, i.e. root in dom0 (or a
// domain given the control/introspection XSM permissions). crv only reads:
// domain list, vCPU info, vCPU context — it never pauses or writes a guest.
// Screenshots of HVM guests go through the device model's QMP socket
// (/var/run/xen/qmp-libxl-<domid>), readable by root.
//
// Contract: as RegisterSource; a domain that is gone (destroyed, dying)
// gives kUnavailable. PV guests are read as 64-bit (32-bit PV is not
// supported).
// Thread-safety: one XenHost may serve many sources; each source is used by
// one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "collectors/register_source.h"

namespace crv {

struct XenDomainInfo {
  uint32_t domid = 0;
  std::string name;  // from xenstore when it can be read, else "domain-<id>"
  bool hvm = false;
  int vcpus = 0;  // max_vcpu_id + 1
  bool running = false;
  bool dying = false;
};

class XenRegisterSource;

class XenHost : public std::enable_shared_from_this<XenHost> {
 public:
  static Result<std::shared_ptr<XenHost>> Open();
  ~XenHost();
  Result<std::vector<XenDomainInfo>> ListDomains();
  // By domain id ("7") or name.
  Result<std::unique_ptr<XenRegisterSource>> Attach(const std::string& domain);

  struct Lib;  // the dlopen'ed library and the interface handle

 private:
  friend class XenRegisterSource;
  XenHost() = default;
  std::unique_ptr<Lib> lib_;
};

class XenRegisterSource final : public RegisterSource {
 public:
  Result<std::vector<RegisterFrame>> Snapshot() override;
  const std::string& vm_id() const override { return name_; }
  uint32_t domid() const { return info_.domid; }
  // The HVM device model's QMP socket (for screenshots).
  std::string qmp_socket() const;

 private:
  friend class XenHost;
  XenRegisterSource() = default;
  std::shared_ptr<XenHost> host_;
  XenDomainInfo info_;
  std::string name_;
};

}  // namespace crv
