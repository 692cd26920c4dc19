#include "collectors/replay/replay_source.h"

#include <filesystem>

namespace crv {

Result<std::unique_ptr<ReplaySource>> ReplaySource::Open(const std::string& path, std::string vm_id, bool loop) {
  std::unique_ptr<ReplaySource> s(new ReplaySource());
  CRV_ASSIGN_OR_RETURN(s->reader_, FrameFileReader::Open(path));
  s->path_ = path;
  s->loop_ = loop;
  s->vm_id_ = vm_id.empty() ? std::filesystem::path(path).stem().string() : std::move(vm_id);
  return s;
}

Result<std::vector<RegisterFrame>> ReplaySource::Snapshot() {
  auto rec = reader_->Next();
  if (rec.ok() && !rec->has_value() && loop_ && snapshots_ > 0) {
    CRV_ASSIGN_OR_RETURN(reader_, FrameFileReader::Open(path_));
    rec = reader_->Next();
  }
  if (!rec.ok()) return Unavailable("replay of " + path_ + " ended: " + rec.status().message());
  if (!rec->has_value()) {
    return Unavailable("replay of " + path_ + " ended after " + std::to_string(snapshots_) + " snapshots");
  }
  FrameBatch batch;
  if (Status s = DecodeBatch(**rec, &batch); !s.ok()) {
    ++invalid_;
    return s.WithContext("replay of " + path_ + ", record " + std::to_string(reader_->records()));
  }
  ++snapshots_;
  for (auto& f : batch.frames) {
    f.seq = 0;
    f.timestamp_ns = 0;
  }
  return std::move(batch.frames);
}

}  // namespace crv
