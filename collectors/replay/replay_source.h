// ReplaySource: a frame file as a collector. Each record (one tick's
// FrameBatch) becomes one snapshot; the sampler re-stamps seq and time, so a
// recording can stand in for a live VM (tests, demos, the conformance suite).
//
// Contract: records that fail verification are skipped (counted, and the
// snapshot is kInvalidArgument naming the record); the end of the file is
// the VM disappearing: kUnavailable "replay of FILE ended after N snapshots".
// With loop = true it starts over instead.
// Thread-safety: one thread at a time (RegisterSource contract).
#pragma once

#include <memory>
#include <string>

#include "collectors/register_source.h"
#include "stream/frame_file.h"

namespace crv {

class ReplaySource final : public RegisterSource {
 public:
  static Result<std::unique_ptr<ReplaySource>> Open(const std::string& path, std::string vm_id = "", bool loop = false);
  Result<std::vector<RegisterFrame>> Snapshot() override;
  const std::string& vm_id() const override { return vm_id_; }
  uint64_t snapshots() const { return snapshots_; }
  uint64_t invalid() const { return invalid_; }

 private:
  ReplaySource() = default;
  std::string path_, vm_id_;
  bool loop_ = false;
  std::unique_ptr<FrameFileReader> reader_;
  uint64_t snapshots_ = 0, invalid_ = 0;
};

}  // namespace crv
