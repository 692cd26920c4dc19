// libvirt backend: domains discovered through libvirt, register snapshots
// through its QEMU monitor passthrough (`info registers -a`, the same text
// the QMP backend parses), screenshots through virDomainScreenshot.
//
// Most KVM hosts are managed by libvirt, which owns each VM's QMP socket; this
// is how crv reaches those VMs without a second monitor connection.
//
// Privileges: monitor passthrough is a privileged libvirt call (it marks the
// domain "tainted: custom-monitor" in libvirt's log), so the connection must
// be read-write: root, or a user libvirtd's unix_sock_group/polkit admits to
// qemu:///system. crv sends only `info registers -a` and screenshots.
//
// Contract: as RegisterSource. A domain that stops or is undefined gives
// kUnavailable naming it; a reply that does not parse gives kInvalidArgument.
// Thread-safety: libvirt connections are thread-safe; a source is used by one
// thread at a time, Screenshot() may run beside Snapshot().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "collectors/register_source.h"
#include "core/features.h"

namespace crv {

struct LibvirtDomainInfo {
  std::string name, uuid;
  int id = -1;  // -1 when not running
  bool running = false;
  int vcpus = 0;
};

class LibvirtRegisterSource;

class LibvirtConnection : public std::enable_shared_from_this<LibvirtConnection> {
 public:
  // uri: e.g. qemu:///system (the default), qemu+ssh://host/system.
  static Result<std::shared_ptr<LibvirtConnection>> Open(const std::string& uri = "qemu:///system");
  ~LibvirtConnection();
  Result<std::vector<LibvirtDomainInfo>> ListDomains(bool running_only = true);
  // By name or UUID.
  Result<std::unique_ptr<LibvirtRegisterSource>> Attach(const std::string& domain);
  const std::string& uri() const { return uri_; }

  struct Handle;

 private:
  friend class LibvirtRegisterSource;
  LibvirtConnection() = default;
  std::string uri_;
  std::unique_ptr<Handle> h_;
};

class LibvirtRegisterSource final : public RegisterSource {
 public:
  ~LibvirtRegisterSource() override;
  Result<std::vector<RegisterFrame>> Snapshot() override;
  const std::string& vm_id() const override { return name_; }
  // Writes the display to `path`; returns the image's MIME type (image/png
  // with QEMU >= 7.1).
  Result<std::string> Screenshot(const std::string& path);

  struct Handle;

 private:
  friend class LibvirtConnection;
  LibvirtRegisterSource() = default;
  std::shared_ptr<LibvirtConnection> conn_;
  std::string name_;
  std::unique_ptr<Handle> h_;
};

}  // namespace crv
