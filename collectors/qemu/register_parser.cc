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

// Maps an HMP register name (both layouts) to its field.
std::optional<int> FieldOf(std::string_view name) {
  struct Entry {
    std::string_view name;
    int field;
  };
  static constexpr Entry kTable[] = {
      {"RAX", kRax}, {"EAX", kRax}, {"RBX", kRbx},    {"EBX", kRbx},      {"RCX", kRcx},      {"ECX", kRcx},
      {"RDX", kRdx}, {"EDX", kRdx}, {"RSI", kRsi},    {"ESI", kRsi},      {"RDI", kRdi},      {"EDI", kRdi},
      {"RBP", kRbp}, {"EBP", kRbp}, {"RSP", kRsp},    {"ESP", kRsp},      {"R8", kR8},        {"R9", kR9},
      {"R10", kR10}, {"R11", kR11}, {"R12", kR12},    {"R13", kR13},      {"R14", kR14},      {"R15", kR15},
      {"RIP", kRip}, {"EIP", kRip}, {"RFL", kRflags}, {"EFL", kRflags},   {"CR0", kCr0},      {"CR2", kCr2},
      {"CR3", kCr3}, {"CR4", kCr4}, {"EFER", kEfer},  {"CS", kCs},        {"DS", kDs},        {"ES", kEs},
      {"FS", kFs},   {"GS", kGs},   {"SS", kSs},      {"CPL", kFieldCpl}, {"HLT", kFieldHlt},
  };
  for (const auto& e : kTable) {
    if (e.name == name) return e.field;
  }
  return std::nullopt;
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
