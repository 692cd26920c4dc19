// RegisterFrame: crv's in-memory register snapshot, and the only code that
// turns frames into FlatBuffers and back.
//
// Contract: EncodeBatch writes a size-prefixed FrameBatch; DecodeBatch accepts
// bytes from outside the process and never reads a byte it has not verified
// (FlatBuffers Verifier plus an alignment check the 2.0.8 Verifier lacks).
// A failure names the problem (which frame, which field).
// Thread-safety: BatchEncoder is not thread-safe (it reuses its builder);
// DecodeBatch is a pure function.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace crv {

// Registers whose windowed entropy crv computes, in feature order.
enum Reg : int {
  kRax,
  kRbx,
  kRcx,
  kRdx,
  kRsi,
  kRdi,
  kRbp,
  kRsp,
  kR8,
  kR9,
  kR10,
  kR11,
  kR12,
  kR13,
  kR14,
  kR15,
  kRip,
  kRflags,
  kCr0,
  kCr2,
  kCr3,
  kCr4,
  kEfer,
  kCs,
  kDs,
  kEs,
  kFs,
  kGs,
  kSs,
  kNumRegs
};

// Lower-case names ("rax", ..., "ss"), indexed by Reg.
const std::array<std::string_view, kNumRegs>& RegisterNames();

constexpr uint64_t kRflagsIf = 1u << 9;  // interrupts enabled
constexpr uint64_t kCr0Pe = 1u << 0;     // protected mode
constexpr uint64_t kCr0Pg = 1u << 31;    // paging
constexpr uint64_t kEferLma = 1u << 10;  // long mode active

struct RegisterFrame {
  uint16_t vcpu = 0;
  uint64_t seq = 0;
  int64_t timestamp_ns = 0;
  std::array<uint64_t, kNumRegs> regs{};
  uint8_t cpl = 0;
  bool halted = false;

  uint64_t reg(Reg r) const { return regs[r]; }
  bool operator==(const RegisterFrame&) const = default;
};

struct FrameBatch {
  std::string vm_id;
  std::string host;
  std::vector<RegisterFrame> frames;
  uint64_t boot_id = 0;
};

// Builds size-prefixed FrameBatch buffers, reusing one builder.
class BatchEncoder {
 public:
  BatchEncoder();
  ~BatchEncoder();
  BatchEncoder(const BatchEncoder&) = delete;
  BatchEncoder& operator=(const BatchEncoder&) = delete;

  // The bytes stay valid until the next Encode call.
  std::span<const uint8_t> Encode(std::string_view vm_id, std::string_view host, std::span<const RegisterFrame> frames,
                                  uint64_t boot_id = 0);

 private:
  struct Impl;
  Impl* impl_;
};

// One-shot helper returning an owned copy.
std::vector<uint8_t> EncodeBatch(std::string_view vm_id, std::string_view host, std::span<const RegisterFrame> frames);

// Verifies a size-prefixed FrameBatch and decodes it into `out` (its frames
// vector is reused). On failure `out` is unspecified.
Status DecodeBatch(std::span<const uint8_t> bytes, FrameBatch* out);

// Largest buffer DecodeBatch accepts; bigger ones are refused before verifying.
constexpr size_t kMaxBatchBytes = 16u << 20;

}  // namespace crv
