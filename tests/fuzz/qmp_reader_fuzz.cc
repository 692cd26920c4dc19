// Fuzz target: the byte stream a QMP peer sends, split at arbitrary points.
#include <cstddef>
#include <cstdint>

#include "collectors/qemu/qmp_client.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  crv::QmpReader reader;
  // The first byte picks a chunk size so message boundaries fall anywhere.
  const size_t chunk = size > 0 ? 1 + data[0] % 64 : 1;
  for (size_t off = 0; off < size; off += chunk) {
    const size_t n = off + chunk > size ? size - off : chunk;
    reader.Feed(reinterpret_cast<const char*>(data) + off, n);
    for (int guard = 0; guard < 1 << 16; ++guard) {
      auto m = reader.Next();
      if (m.ok() && !m->has_value()) break;
      if (m.ok() && !(*m)->is_object()) __builtin_trap();
    }
  }
  return 0;
}
