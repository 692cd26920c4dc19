#include "collectors/libvirt/libvirt_source.h"

#if CRV_WITH_LIBVIRT
#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#endif

#include <cstdio>
#include <mutex>

#include "collectors/qemu/register_parser.h"

namespace crv {

#if CRV_WITH_LIBVIRT

namespace {

// libvirt prints every error to stderr by default; crv reports them itself.
void Silent(void*, virErrorPtr) {}

std::string LastError() {
  virErrorPtr e = virGetLastError();
  return e != nullptr && e->message != nullptr ? e->message : "unknown libvirt error";
}

// A call on a domain failed: is the domain (or the daemon) gone, or was the
// request bad?
Status DomainError(const std::string& what, const std::string& name) {
  virErrorPtr e = virGetLastError();
  const std::string msg = "libvirt domain " + name + ": " + what + ": " + LastError();
  if (e == nullptr) return Unavailable(msg);
  switch (e->code) {
    case VIR_ERR_NO_DOMAIN:
    case VIR_ERR_OPERATION_INVALID:  // "domain is not running"
    case VIR_ERR_SYSTEM_ERROR:
    case VIR_ERR_RPC:
    case VIR_ERR_NO_CONNECT:
    case VIR_ERR_INVALID_CONN:
    case VIR_ERR_AGENT_UNRESPONSIVE:
    case VIR_ERR_OPERATION_TIMEOUT:
      return Unavailable(msg);
    default:
      return Internal(msg);
  }
}

}  // namespace

struct LibvirtConnection::Handle {
  virConnectPtr conn = nullptr;
};
struct LibvirtRegisterSource::Handle {
  virDomainPtr dom = nullptr;
};

Result<std::shared_ptr<LibvirtConnection>> LibvirtConnection::Open(const std::string& uri) {
  static std::once_flag once;
  std::call_once(once, [] { virSetErrorFunc(nullptr, Silent); });
  std::shared_ptr<LibvirtConnection> c(new LibvirtConnection());
  c->uri_ = uri;
  c->h_ = std::make_unique<Handle>();
  c->h_->conn = virConnectOpen(uri.c_str());
  if (c->h_->conn == nullptr) {
    return Unavailable("cannot connect to libvirt at " + uri + ": " + LastError() +
                       " (is libvirtd running, and may this user open a read-write connection?)");
  }
  return c;
}

LibvirtConnection::~LibvirtConnection() {
  if (h_ && h_->conn != nullptr) virConnectClose(h_->conn);
}

Result<std::vector<LibvirtDomainInfo>> LibvirtConnection::ListDomains(bool running_only) {
  virDomainPtr* doms = nullptr;
  const unsigned flags = running_only ? VIR_CONNECT_LIST_DOMAINS_ACTIVE : 0;
  const int n = virConnectListAllDomains(h_->conn, &doms, flags);
  if (n < 0) return Unavailable("libvirt at " + uri_ + ": cannot list domains: " + LastError());
  std::vector<LibvirtDomainInfo> out;
  for (int i = 0; i < n; ++i) {
    LibvirtDomainInfo d;
    if (const char* name = virDomainGetName(doms[i])) d.name = name;
    char uuid[VIR_UUID_STRING_BUFLEN] = {};
    if (virDomainGetUUIDString(doms[i], uuid) == 0) d.uuid = uuid;
    d.running = virDomainIsActive(doms[i]) == 1;
    d.id = d.running ? static_cast<int>(virDomainGetID(doms[i])) : -1;
    virDomainInfo info{};
    if (virDomainGetInfo(doms[i], &info) == 0) d.vcpus = info.nrVirtCpu;
    out.push_back(std::move(d));
    virDomainFree(doms[i]);
  }
  free(doms);
  return out;
}

Result<std::unique_ptr<LibvirtRegisterSource>> LibvirtConnection::Attach(const std::string& domain) {
  virDomainPtr dom = virDomainLookupByName(h_->conn, domain.c_str());
  if (dom == nullptr) dom = virDomainLookupByUUIDString(h_->conn, domain.c_str());
  if (dom == nullptr) return NotFound("libvirt at " + uri_ + ": no domain named " + domain);
  std::unique_ptr<LibvirtRegisterSource> s(new LibvirtRegisterSource());
  s->conn_ = shared_from_this();
  s->h_ = std::make_unique<LibvirtRegisterSource::Handle>();
  s->h_->dom = dom;
  s->name_ = virDomainGetName(dom);
  if (virDomainIsActive(dom) != 1) return Unavailable("libvirt domain " + s->name_ + " is not running");
  return s;
}

LibvirtRegisterSource::~LibvirtRegisterSource() {
  if (h_ && h_->dom != nullptr) virDomainFree(h_->dom);
}

Result<std::vector<RegisterFrame>> LibvirtRegisterSource::Snapshot() {
  char* reply = nullptr;
  if (virDomainQemuMonitorCommand(h_->dom, "info registers -a", &reply, VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP) != 0) {
    return DomainError("info registers", name_);
  }
  std::string text(reply);
  free(reply);
  auto frames = ParseInfoRegisters(text);
  if (!frames.ok()) return frames.status().WithContext("parsing info registers of libvirt domain " + name_);
  return frames;
}

Result<std::string> LibvirtRegisterSource::Screenshot(const std::string& path) {
  virStreamPtr st = virStreamNew(conn_->h_->conn, 0);
  if (st == nullptr) return DomainError("screenshot stream", name_);
  char* mime = virDomainScreenshot(h_->dom, st, 0, 0);
  if (mime == nullptr) {
    virStreamFree(st);
    return DomainError("screenshot", name_);
  }
  std::string type(mime);
  free(mime);
  FILE* f = fopen(path.c_str(), "wb");
  if (f == nullptr) {
    virStreamAbort(st);
    virStreamFree(st);
    return Internal("cannot write screenshot " + path);
  }
  const int rc = virStreamRecvAll(
      st,
      [](virStreamPtr, const char* data, size_t n, void* opaque) -> int {
        return fwrite(data, 1, n, static_cast<FILE*>(opaque)) == n ? static_cast<int>(n) : -1;
      },
      f);
  const bool closed = fclose(f) == 0;
  if (rc == 0) {
    virStreamFinish(st);
  } else {
    virStreamAbort(st);
  }
  virStreamFree(st);
  if (rc != 0) return DomainError("receiving the screenshot", name_);
  if (!closed) return Internal("cannot write screenshot " + path);
  return type;
}

#else  // !CRV_WITH_LIBVIRT

struct LibvirtConnection::Handle {};
struct LibvirtRegisterSource::Handle {};

Result<std::shared_ptr<LibvirtConnection>> LibvirtConnection::Open(const std::string& uri) {
  return Unavailable("cannot connect to libvirt at " + uri +
                     ": crv was built without libvirt support (CRV_WITH_LIBVIRT=OFF)");
}
LibvirtConnection::~LibvirtConnection() = default;
Result<std::vector<LibvirtDomainInfo>> LibvirtConnection::ListDomains(bool) { return Unavailable("no libvirt"); }
Result<std::unique_ptr<LibvirtRegisterSource>> LibvirtConnection::Attach(const std::string&) {
  return Unavailable("no libvirt");
}
LibvirtRegisterSource::~LibvirtRegisterSource() = default;
Result<std::vector<RegisterFrame>> LibvirtRegisterSource::Snapshot() { return Unavailable("no libvirt"); }
Result<std::string> LibvirtRegisterSource::Screenshot(const std::string&) { return Unavailable("no libvirt"); }

#endif

}  // namespace crv
