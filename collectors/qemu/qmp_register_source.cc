#include "collectors/qemu/qmp_register_source.h"

#include "collectors/qemu/register_parser.h"

namespace crv {

Result<std::vector<RegisterFrame>> QmpRegisterSource::Snapshot() {
  std::unique_lock lock(mu_);
  CRV_ASSIGN_OR_RETURN(std::string text, client_->HumanMonitorCommand("info registers -a", timeout_));
  lock.unlock();
  auto frames = ParseInfoRegisters(text);
  if (!frames.ok()) return frames.status().WithContext("parsing info registers of " + vm_id_);
  return frames;
}

}  // namespace crv
