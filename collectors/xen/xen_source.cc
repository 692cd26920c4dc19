#include "collectors/xen/xen_source.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/features.h"

#if CRV_WITH_XEN
#include "collectors/xen/xen_context.h"
#endif

namespace crv {

namespace {
Status NotOnThisHost(const std::string& why) { return Unavailable("Xen is not available on this host: " + why); }
}  // namespace

std::string XenRegisterSource::qmp_socket() const { return "/var/run/xen/qmp-libxl-" + std::to_string(info_.domid); }

#if CRV_WITH_XEN

// The libxenctrl (and, for names, libxenstore) entry points crv uses.
struct XenHost::Lib {
  void* ctrl = nullptr;
  void* store = nullptr;
  xc_interface* xch = nullptr;
  void* xsh = nullptr;
  xc_interface* (*interface_open)(xentoollog_logger*, xentoollog_logger*, unsigned) = nullptr;
  int (*interface_close)(xc_interface*) = nullptr;
  int (*domain_getinfolist)(xc_interface*, uint32_t, unsigned, xc_domaininfo_t*) = nullptr;
  int (*hvm_getcontext_partial)(xc_interface*, uint32_t, uint16_t, uint16_t, void*, uint32_t) = nullptr;
  int (*vcpu_getcontext)(xc_interface*, uint32_t, uint32_t, vcpu_guest_context_any_t*) = nullptr;
  int (*vcpu_getinfo)(xc_interface*, uint32_t, uint32_t, xc_vcpuinfo_t*) = nullptr;
  void* (*xs_open)(unsigned long) = nullptr;
  void (*xs_close)(void*) = nullptr;
  void* (*xs_read)(void*, uint32_t, const char*, unsigned*) = nullptr;

  ~Lib() {
    if (xsh != nullptr && xs_close != nullptr) xs_close(xsh);
    if (xch != nullptr && interface_close != nullptr) interface_close(xch);
    if (store != nullptr) dlclose(store);
    if (ctrl != nullptr) dlclose(ctrl);
  }

  template <typename F>
  bool Sym(void* lib, const char* name, F* out) {
    *out = reinterpret_cast<F>(dlsym(lib, name));
    return *out != nullptr;
  }

  std::string Name(uint32_t domid) {
    if (xsh == nullptr) return "domain-" + std::to_string(domid);
    const std::string path = "/local/domain/" + std::to_string(domid) + "/name";
    unsigned len = 0;
    char* v = static_cast<char*>(xs_read(xsh, 0, path.c_str(), &len));
    if (v == nullptr) return "domain-" + std::to_string(domid);
    std::string name(v, len);
    free(v);
    return name;
  }
};

Result<std::shared_ptr<XenHost>> XenHost::Open() {
  auto lib = std::make_unique<Lib>();
  for (const char* so : {"libxenctrl.so.4.17", "libxenctrl.so"}) {
    if ((lib->ctrl = dlopen(so, RTLD_NOW | RTLD_LOCAL)) != nullptr) break;
  }
  if (lib->ctrl == nullptr) return NotOnThisHost(std::string("cannot load libxenctrl: ") + dlerror());
  if (!lib->Sym(lib->ctrl, "xc_interface_open", &lib->interface_open) ||
      !lib->Sym(lib->ctrl, "xc_interface_close", &lib->interface_close) ||
      !lib->Sym(lib->ctrl, "xc_domain_getinfolist", &lib->domain_getinfolist) ||
      !lib->Sym(lib->ctrl, "xc_domain_hvm_getcontext_partial", &lib->hvm_getcontext_partial) ||
      !lib->Sym(lib->ctrl, "xc_vcpu_getcontext", &lib->vcpu_getcontext) ||
      !lib->Sym(lib->ctrl, "xc_vcpu_getinfo", &lib->vcpu_getinfo)) {
    return NotOnThisHost(std::string("libxenctrl lacks a function crv needs: ") + dlerror());
  }
  // Without the privcmd device there is no hypervisor to talk to; checking
  // first also keeps libxenctrl from printing its own error.
  if (access("/dev/xen/privcmd", F_OK) != 0 && access("/proc/xen/privcmd", F_OK) != 0) {
    return NotOnThisHost("no /dev/xen/privcmd (this host is not a Xen dom0, or xen-privcmd is not loaded)");
  }
  lib->xch = lib->interface_open(nullptr, nullptr, 0);
  if (lib->xch == nullptr) {
    return NotOnThisHost(std::string("cannot open the hypervisor interface: ") + std::strerror(errno) +
                         " (crv needs root in dom0)");
  }
  // Names are a nicety: without xenstore, domains are "domain-<id>".
  if ((lib->store = dlopen("libxenstore.so.4", RTLD_NOW | RTLD_LOCAL)) != nullptr &&
      lib->Sym(lib->store, "xs_open", &lib->xs_open) && lib->Sym(lib->store, "xs_close", &lib->xs_close) &&
      lib->Sym(lib->store, "xs_read", &lib->xs_read)) {
    lib->xsh = lib->xs_open(0);
  }
  std::shared_ptr<XenHost> h(new XenHost());
  h->lib_ = std::move(lib);
  return h;
}

XenHost::~XenHost() = default;

Result<std::vector<XenDomainInfo>> XenHost::ListDomains() {
  std::vector<xc_domaininfo_t> infos(1024);
  const int n = lib_->domain_getinfolist(lib_->xch, 0, static_cast<unsigned>(infos.size()), infos.data());
  if (n < 0) return Unavailable(std::string("Xen: cannot list domains: ") + std::strerror(errno));
  std::vector<XenDomainInfo> out;
  for (int i = 0; i < n; ++i) {
    const auto& d = infos[static_cast<size_t>(i)];
    XenDomainInfo x;
    x.domid = d.domain;
    x.hvm = (d.flags & XEN_DOMINF_hvm_guest) != 0;
    x.running = (d.flags & (XEN_DOMINF_running | XEN_DOMINF_blocked)) != 0;
    x.dying = (d.flags & XEN_DOMINF_dying) != 0;
    x.vcpus = static_cast<int>(d.max_vcpu_id) + 1;
    x.name = lib_->Name(d.domain);
    out.push_back(std::move(x));
  }
  return out;
}

Result<std::unique_ptr<XenRegisterSource>> XenHost::Attach(const std::string& domain) {
  CRV_ASSIGN_OR_RETURN(auto domains, ListDomains());
  for (const auto& d : domains) {
    if (d.name != domain && std::to_string(d.domid) != domain) continue;
    if (d.domid == 0) return InvalidArgument("Xen: domain 0 is the control domain; crv watches guests");
    std::unique_ptr<XenRegisterSource> s(new XenRegisterSource());
    s->host_ = shared_from_this();
    s->info_ = d;
    s->name_ = d.name;
    return s;
  }
  return NotFound("Xen: no domain " + domain);
}

Result<std::vector<RegisterFrame>> XenRegisterSource::Snapshot() {
  auto& lib = *host_->lib_;
  const uint32_t dom = info_.domid;
  std::vector<RegisterFrame> frames;
  for (int v = 0; v < info_.vcpus; ++v) {
    xc_vcpuinfo_t vi{};
    if (lib.vcpu_getinfo(lib.xch, dom, static_cast<uint32_t>(v), &vi) != 0) {
      return Unavailable("Xen domain " + name_ + " (" + std::to_string(dom) + "): vCPU " + std::to_string(v) + ": " +
                         std::strerror(errno) + " (domain gone?)");
    }
    if (!vi.online) continue;
    if (info_.hvm) {
      struct hvm_hw_cpu cpu {};
      if (lib.hvm_getcontext_partial(lib.xch, dom, HVM_SAVE_CODE(CPU), static_cast<uint16_t>(v), &cpu, sizeof cpu) !=
          0) {
        return Unavailable("Xen domain " + name_ + ": HVM context of vCPU " + std::to_string(v) + ": " +
                           std::strerror(errno));
      }
      frames.push_back(FrameFromHvmCpu(cpu, static_cast<uint16_t>(v), vi.blocked != 0));
    } else {
      vcpu_guest_context_any_t ctx{};
      if (lib.vcpu_getcontext(lib.xch, dom, static_cast<uint32_t>(v), &ctx) != 0) {
        return Unavailable("Xen domain " + name_ + ": vCPU context " + std::to_string(v) + ": " + std::strerror(errno));
      }
      frames.push_back(FrameFromPvContext(ctx.x64, static_cast<uint16_t>(v), vi.blocked != 0));
    }
  }
  if (frames.empty()) return Unavailable("Xen domain " + name_ + " has no online vCPU");
  return frames;
}

#else  // !CRV_WITH_XEN

struct XenHost::Lib {};
Result<std::shared_ptr<XenHost>> XenHost::Open() {
  return NotOnThisHost("crv was built without Xen support (CRV_WITH_XEN=OFF)");
}
XenHost::~XenHost() = default;
Result<std::vector<XenDomainInfo>> XenHost::ListDomains() { return NotOnThisHost("no Xen support"); }
Result<std::unique_ptr<XenRegisterSource>> XenHost::Attach(const std::string&) {
  return NotOnThisHost("no Xen support");
}
Result<std::vector<RegisterFrame>> XenRegisterSource::Snapshot() { return NotOnThisHost("no Xen support"); }

#endif

}  // namespace crv
