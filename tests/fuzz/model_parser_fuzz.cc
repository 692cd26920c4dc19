// Fuzz target: a model file (JSON) as given to --model.
#include <cstddef>
#include <cstdint>
#include <string>

#include "operators/model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto m = crv::ParseModel(std::string(reinterpret_cast<const char*>(data), size), "fuzz.model");
  if (m.ok()) {
    crv::FeatureVector fv;
    const auto p = m->Classify(fv);
    if (p.klass < 0 || p.klass >= static_cast<int>(m->tree.classes().size())) __builtin_trap();
  }
  return 0;
}
