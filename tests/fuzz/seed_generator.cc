// Writes the binary seeds of the frame fuzz targets (run once, output
// committed under tests/fuzz/corpus/): valid batches and frame files.
#include <cstdio>
#include <fstream>
#include <string>

#include "stream/frame_file.h"
#include "tests/frame_fixtures.h"

namespace {
void Write(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), b.size());
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  Write(dir + "/frame_verifier/one-vcpu", crv::EncodeBatch("vm", "h", crv::testing::SyntheticFrames(1, 1)));
  Write(dir + "/frame_verifier/two-vcpus", crv::EncodeBatch("vm-2", "", crv::testing::SyntheticFrames(3, 2)));
  const std::string ff = dir + "/frame_file/three-records";
  {
    auto w = crv::FrameFileWriter::Create(ff);
    crv::BatchEncoder enc;
    for (int i = 0; i < 3; ++i) {
      if (!(*w)->Append(enc.Encode("vm", "h", crv::testing::SyntheticFrames(2, 1, i, 4, i * 2))).ok()) return 1;
    }
  }
  return 0;
}
