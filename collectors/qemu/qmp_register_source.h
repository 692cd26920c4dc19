// QmpRegisterSource: register snapshots of a QEMU VM through its QMP socket,
// using `info registers -a` (every vCPU in one reply; FIELD-NOTES: about
// 0.4 ms on the QEMU side). There is no structured QMP command for registers.
//
// The snapshot is one HMP command executed by QEMU's main loop, so all vCPUs
// are read at one moment from QEMU's point of view; under multi-threaded TCG
// the vCPUs keep running while they are read, so a snapshot is consistent per
// vCPU, not across vCPUs to the instruction.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "collectors/qemu/qmp_client.h"
#include "collectors/register_source.h"

namespace crv {

class QmpRegisterSource final : public RegisterSource {
 public:
  QmpRegisterSource(std::unique_ptr<QmpClient> client, std::string vm_id, Millis timeout = Millis(2000))
      : client_(std::move(client)), vm_id_(std::move(vm_id)), timeout_(timeout) {}

  Result<std::vector<RegisterFrame>> Snapshot() override;
  const std::string& vm_id() const override { return vm_id_; }
  // Other users of the same QMP connection (screenshots) hold mutex() while
  // they use client(): QMP answers one command at a time.
  QmpClient& client() { return *client_; }
  std::mutex& mutex() { return mu_; }

 private:
  std::mutex mu_;
  std::unique_ptr<QmpClient> client_;
  std::string vm_id_;
  Millis timeout_;
};

}  // namespace crv
