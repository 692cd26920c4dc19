#include "collectors/qemu/register_parser.h"

#include <bitset>
#include <optional>
#include <string>

namespace crv {
namespace {

enum Field : int {
  // Reg values 0 .. kNumRegs-1 first, then the extra fields.
  kFieldCpl = kNumRegs,
  kFieldHlt,
  kNumFields
};

// Packs up to four upper-case characters into a key for a switch.
constexpr uint32_t Key(std::string_view n) {
  uint32_t k = 0;
  for (char c : n) k = (k << 8) | static_cast<uint8_t>(c);
  return k;
}

// Maps an HMP register name (both layouts) to its field. Called for every
// NAME= token of the reply (about 80 per vCPU, most of them ignored: FPU,
// XMM, debug registers), so it is a switch, not a table scan.
std::optional<int> FieldOf(std::string_view name) {
  if (name.size() < 2 || name.size() > 4) return std::nullopt;
  switch (Key(name)) {
    case Key("RAX"):
    case Key("EAX"):
      return kRax;
    case Key("RBX"):
    case Key("EBX"):
      return kRbx;
    case Key("RCX"):
    case Key("ECX"):
      return kRcx;
    case Key("RDX"):
    case Key("EDX"):
      return kRdx;
    case Key("RSI"):
    case Key("ESI"):
      return kRsi;
    case Key("RDI"):
    case Key("EDI"):
      return kRdi;
    case Key("RBP"):
    case Key("EBP"):
      return kRbp;
    case Key("RSP"):
    case Key("ESP"):
      return kRsp;
    case Key("R8"):
      return kR8;
    case Key("R9"):
      return kR9;
    case Key("R10"):
      return kR10;
    case Key("R11"):
      return kR11;
    case Key("R12"):
      return kR12;
    case Key("R13"):
      return kR13;
    case Key("R14"):
      return kR14;
    case Key("R15"):
      return kR15;
    case Key("RIP"):
    case Key("EIP"):
      return kRip;
    case Key("RFL"):
    case Key("EFL"):
      return kRflags;
    case Key("CR0"):
      return kCr0;
    case Key("CR2"):
      return kCr2;
    case Key("CR3"):
      return kCr3;
    case Key("CR4"):
      return kCr4;
    case Key("EFER"):
      return kEfer;
    case Key("CS"):
      return kCs;
    case Key("DS"):
      return kDs;
    case Key("ES"):
      return kEs;
    case Key("FS"):
      return kFs;
    case Key("GS"):
      return kGs;
    case Key("SS"):
      return kSs;
    case Key("CPL"):
      return kFieldCpl;
    case Key("HLT"):
      return kFieldHlt;
    default:
      return std::nullopt;
  }
}

bool IsNameChar(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

struct CpuBlock {
  int index = -1;
  RegisterFrame frame;
  std::bitset<kNumFields> seen;
};

// Reads NAME[ ]*=[ ]*HEX tokens from one line into `cpu`.
Status ParseLine(std::string_view line, CpuBlock* cpu) {
  size_t i = 0;
  while (i < line.size()) {
    if (!IsNameChar(line[i]) || (i > 0 && IsNameChar(line[i - 1]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < line.size() && IsNameChar(line[j])) ++j;
    const std::string_view name = line.substr(i, j - i);
    size_t k = j;
    while (k < line.size() && line[k] == ' ') ++k;
    if (k >= line.size() || line[k] != '=') {
      i = j;
      continue;
    }
    ++k;
    while (k < line.size() && line[k] == ' ') ++k;
    size_t v = k;
    uint64_t value = 0;
    int digits = 0;
    while (v < line.size() && HexDigit(line[v]) >= 0) {
      if (++digits > 16) {
        return InvalidArgument("CPU#" + std::to_string(cpu->index) + ": value of " + std::string(name) +
                               " has more than 16 hex digits");
      }
      value = (value << 4) | static_cast<uint64_t>(HexDigit(line[v]));
      ++v;
    }
    i = v > k ? v : k;
    const auto field = FieldOf(name);
    if (!field || digits == 0) continue;
    // Segment lines carry base, limit and flags after the selector; only the
    // first value after '=' is the selector, which is what was read.
    if (cpu->seen[*field]) continue;  // First occurrence wins (e.g. "CS =" vs "CS64").
    cpu->seen[*field] = true;
    if (*field == kFieldCpl) {
      cpu->frame.cpl = static_cast<uint8_t>(value & 3);
    } else if (*field == kFieldHlt) {
      cpu->frame.halted = value != 0;
    } else {
      cpu->frame.regs[*field] = value;
    }
  }
  return Status::Ok();
}

Status Finish(const CpuBlock& cpu) {
  static constexpr std::pair<int, const char*> kRequired[] = {
      {kRip, "RIP"}, {kRsp, "RSP"}, {kRflags, "RFLAGS"}, {kCr0, "CR0"}, {kCr3, "CR3"}};
  for (const auto& [field, name] : kRequired) {
    if (!cpu.seen[field]) return InvalidArgument("CPU#" + std::to_string(cpu.index) + ": no " + name + " in the reply");
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<RegisterFrame>> ParseInfoRegisters(std::string_view text) {
  std::vector<RegisterFrame> out;
  std::optional<CpuBlock> cpu;
  std::bitset<kMaxParsedCpus> indices;
  auto close_cpu = [&]() -> Status {
    if (!cpu) return Status::Ok();
    CRV_RETURN_IF_ERROR(Finish(*cpu));
    cpu->frame.vcpu = static_cast<uint16_t>(cpu->index);
    out.push_back(cpu->frame);
    cpu.reset();
    return Status::Ok();
  };
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.starts_with("CPU#")) {
      CRV_RETURN_IF_ERROR(close_cpu());
      size_t d = 4;
      long idx = 0;
      while (d < line.size() && line[d] >= '0' && line[d] <= '9' && idx < 100000) idx = idx * 10 + (line[d++] - '0');
      if (d == 4) return InvalidArgument("malformed CPU header \"" + std::string(line.substr(0, 40)) + "\"");
      if (idx >= static_cast<long>(kMaxParsedCpus)) {
        return InvalidArgument("CPU index " + std::to_string(idx) + " is beyond the limit of " +
                               std::to_string(kMaxParsedCpus));
      }
      if (indices[idx]) return InvalidArgument("CPU#" + std::to_string(idx) + " appears twice in the reply");
      indices[idx] = true;
      cpu.emplace();
      cpu->index = static_cast<int>(idx);
      continue;
    }
    if (line.find('=') == std::string_view::npos) continue;
    if (!cpu) {
      // Plain `info registers` (without -a) prints one CPU with no header.
      if (!out.empty()) return InvalidArgument("register line outside any CPU block");
      cpu.emplace();
      cpu->index = 0;
      indices[0] = true;
    }
    CRV_RETURN_IF_ERROR(ParseLine(line, &*cpu));
  }
  CRV_RETURN_IF_ERROR(close_cpu());
  if (out.empty()) return InvalidArgument("no CPU registers in the reply");
  return out;
}

}  // namespace crv
