// Fuzz target: QEMU's `info registers -a` text, as returned over QMP.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "collectors/qemu/register_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = crv::ParseInfoRegisters(std::string_view(reinterpret_cast<const char*>(data), size));
  if (r.ok()) {
    // Every parsed CPU has a distinct index below the limit.
    for (const auto& f : *r) {
      if (f.vcpu >= crv::kMaxParsedCpus) __builtin_trap();
    }
  }
  return 0;
}
