#include "schemas/register_frame.h"

#include <cstring>
#include <memory>

#include "frame_generated.h"

namespace crv {

const std::array<std::string_view, kNumRegs>& RegisterNames() {
  static const std::array<std::string_view, kNumRegs> kNames = {
      "rax", "rbx", "rcx",    "rdx", "rsi", "rdi", "rbp", "rsp",  "r8", "r9", "r10", "r11", "r12", "r13", "r14",
      "r15", "rip", "rflags", "cr0", "cr2", "cr3", "cr4", "efer", "cs", "ds", "es",  "fs",  "gs",  "ss"};
  return kNames;
}

namespace {

fb::Registers ToFb(const RegisterFrame& f) {
  fb::Registers r;
  for (int i = 0; i < 16; ++i) r.mutable_gpr()->Mutate(i, f.regs[kRax + i]);
  r.mutate_rip(f.regs[kRip]);
  r.mutate_rflags(f.regs[kRflags]);
  r.mutate_cr0(f.regs[kCr0]);
  r.mutate_cr2(f.regs[kCr2]);
  r.mutate_cr3(f.regs[kCr3]);
  r.mutate_cr4(f.regs[kCr4]);
  r.mutate_efer(f.regs[kEfer]);
  r.mutate_cs(static_cast<uint16_t>(f.regs[kCs]));
  r.mutate_ds(static_cast<uint16_t>(f.regs[kDs]));
  r.mutate_es(static_cast<uint16_t>(f.regs[kEs]));
  r.mutate_fs(static_cast<uint16_t>(f.regs[kFs]));
  r.mutate_gs(static_cast<uint16_t>(f.regs[kGs]));
  r.mutate_ss(static_cast<uint16_t>(f.regs[kSs]));
  r.mutate_cpl(f.cpl);
  r.mutate_halted(f.halted);
  return r;
}

void FromFb(const fb::Registers& r, RegisterFrame* f) {
  for (int i = 0; i < 16; ++i) f->regs[kRax + i] = r.gpr()->Get(i);
  f->regs[kRip] = r.rip();
  f->regs[kRflags] = r.rflags();
  f->regs[kCr0] = r.cr0();
  f->regs[kCr2] = r.cr2();
  f->regs[kCr3] = r.cr3();
  f->regs[kCr4] = r.cr4();
  f->regs[kEfer] = r.efer();
  f->regs[kCs] = r.cs();
  f->regs[kDs] = r.ds();
  f->regs[kEs] = r.es();
  f->regs[kFs] = r.fs();
  f->regs[kGs] = r.gs();
  f->regs[kSs] = r.ss();
  f->cpl = r.cpl();
  f->halted = r.halted();
}

bool Aligned(const void* p, size_t a) { return (reinterpret_cast<uintptr_t>(p) & (a - 1)) == 0; }

}  // namespace

struct BatchEncoder::Impl {
  flatbuffers::FlatBufferBuilder fbb{4096};
  std::vector<flatbuffers::Offset<fb::Frame>> offsets;
};

BatchEncoder::BatchEncoder() : impl_(new Impl) {}
BatchEncoder::~BatchEncoder() { delete impl_; }

std::span<const uint8_t> BatchEncoder::Encode(std::string_view vm_id, std::string_view host,
                                              std::span<const RegisterFrame> frames, uint64_t boot_id) {
  auto& fbb = impl_->fbb;
  fbb.Clear();
  impl_->offsets.clear();
  for (const RegisterFrame& f : frames) {
    fb::FrameBuilder b(fbb);
    const fb::Registers regs = ToFb(f);
    b.add_regs(&regs);
    b.add_timestamp_ns(f.timestamp_ns);
    b.add_seq(f.seq);
    b.add_vcpu(f.vcpu);
    impl_->offsets.push_back(b.Finish());
  }
  auto vec = fbb.CreateVector(impl_->offsets);
  auto vm = fbb.CreateString(vm_id.data(), vm_id.size());
  auto h = fbb.CreateString(host.data(), host.size());
  auto batch = fb::CreateFrameBatch(fbb, vm, h, vec, boot_id);
  fb::FinishSizePrefixedFrameBatchBuffer(fbb, batch);
  return {fbb.GetBufferPointer(), fbb.GetSize()};
}

std::vector<uint8_t> EncodeBatch(std::string_view vm_id, std::string_view host, std::span<const RegisterFrame> frames) {
  BatchEncoder enc;
  auto bytes = enc.Encode(vm_id, host, frames);
  return {bytes.begin(), bytes.end()};
}

Status DecodeBatch(std::span<const uint8_t> bytes, FrameBatch* out) {
  // Size prefix, root offset and file identifier: 12 bytes before anything else.
  if (bytes.size() < 12) return DataLoss("frame batch of " + std::to_string(bytes.size()) + " bytes is too short");
  if (bytes.size() > kMaxBatchBytes) {
    return InvalidArgument("frame batch of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                           std::to_string(kMaxBatchBytes));
  }
  // Offsets inside the buffer are checked relative to its start; the start
  // itself must be 8-aligned too or every 8-byte read is misaligned.
  std::unique_ptr<uint64_t[]> aligned_copy;
  const uint8_t* data = bytes.data();
  if (!Aligned(data, 8)) {
    aligned_copy.reset(new uint64_t[(bytes.size() + 7) / 8]);
    std::memcpy(aligned_copy.get(), data, bytes.size());
    data = reinterpret_cast<const uint8_t*>(aligned_copy.get());
  }
  const uint32_t prefix = flatbuffers::ReadScalar<uint32_t>(data);
  if (prefix != bytes.size() - sizeof(uint32_t)) {
    return DataLoss("frame batch size prefix says " + std::to_string(prefix) + " bytes but " +
                    std::to_string(bytes.size() - sizeof(uint32_t)) + " follow");
  }
  flatbuffers::Verifier verifier(data, bytes.size(), /*max_depth=*/8, /*max_tables=*/1u << 20);
  if (!fb::VerifySizePrefixedFrameBatchBuffer(verifier)) {
    if (!flatbuffers::BufferHasIdentifier(data, fb::FrameBatchIdentifier(), /*size_prefixed=*/true)) {
      return InvalidArgument("not a frame batch (file identifier is not \"CRVB\")");
    }
    return InvalidArgument("frame batch failed FlatBuffers verification");
  }
  const fb::FrameBatch* batch = fb::GetSizePrefixedFrameBatch(data);
  const auto* frames = batch->frames();
  // The 2.0.8 Verifier does not check the alignment of vector elements.
  if (!Aligned(frames->Data(), alignof(flatbuffers::uoffset_t))) {
    return InvalidArgument("frame batch: the frames vector is misaligned");
  }
  out->vm_id.assign(batch->vm_id()->c_str(), batch->vm_id()->size());
  if (out->vm_id.empty()) return InvalidArgument("frame batch has an empty vm_id");
  out->host = batch->host() ? batch->host()->str() : std::string();
  out->boot_id = batch->boot_id();
  out->frames.resize(frames->size());
  for (flatbuffers::uoffset_t i = 0; i < frames->size(); ++i) {
    const fb::Frame* f = frames->Get(i);
    if (f->regs() == nullptr) return InvalidArgument("frame " + std::to_string(i) + " has no registers");
    if (f->arch() != fb::Arch::X86_64) {
      return InvalidArgument("frame " + std::to_string(i) + " has unsupported architecture " +
                             std::to_string(static_cast<int>(f->arch())));
    }
    RegisterFrame& o = out->frames[i];
    o.vcpu = f->vcpu();
    o.seq = f->seq();
    o.timestamp_ns = f->timestamp_ns();
    FromFb(*f->regs(), &o);
    if (i > 0 && o.seq < out->frames[i - 1].seq) {
      return InvalidArgument("frame " + std::to_string(i) + ": sequence number " + std::to_string(o.seq) +
                             " goes backwards (previous " + std::to_string(out->frames[i - 1].seq) + ")");
    }
  }
  return Status::Ok();
}

}  // namespace crv
