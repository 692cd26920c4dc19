#include "collectors/source_factory.h"

#include <filesystem>

#include "collectors/libvirt/libvirt_source.h"
#include "collectors/qemu/qmp_register_source.h"
#include "collectors/replay/replay_source.h"
#include "collectors/xen/xen_source.h"

namespace crv {

Result<std::unique_ptr<RegisterSource>> OpenSource(const SourceSpec& s) {
  const int n = !s.qmp.empty() + !s.libvirt.empty() + !s.xen.empty() + !s.replay.empty();
  if (n != 1) return InvalidArgument("give exactly one source: a QMP socket, a libvirt domain, a Xen domain or a file");
  if (!s.qmp.empty()) {
    CRV_ASSIGN_OR_RETURN(auto client, QmpClient::Connect(s.qmp));
    const std::string id = s.vm_id.empty() ? std::filesystem::path(s.qmp).stem().string() : s.vm_id;
    return std::unique_ptr<RegisterSource>(std::make_unique<QmpRegisterSource>(std::move(client), id));
  }
  if (!s.libvirt.empty()) {
    CRV_ASSIGN_OR_RETURN(auto conn, LibvirtConnection::Open(s.libvirt_uri));
    CRV_ASSIGN_OR_RETURN(auto src, conn->Attach(s.libvirt));
    return std::unique_ptr<RegisterSource>(std::move(src));
  }
  if (!s.xen.empty()) {
    CRV_ASSIGN_OR_RETURN(auto host, XenHost::Open());
    CRV_ASSIGN_OR_RETURN(auto src, host->Attach(s.xen));
    return std::unique_ptr<RegisterSource>(std::move(src));
  }
  CRV_ASSIGN_OR_RETURN(auto src, ReplaySource::Open(s.replay, s.vm_id));
  return std::unique_ptr<RegisterSource>(std::move(src));
}

}  // namespace crv
