#include "stream/frame_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "schemas/register_frame.h"

namespace crv {
namespace {
void PutU32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t GetU32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
}  // namespace

Result<std::unique_ptr<FrameFileWriter>> FrameFileWriter::Create(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return ErrnoStatus(StatusCode::kInvalidArgument, "cannot create frame file " + path, errno);
  uint8_t header[kFrameFileHeaderSize];
  std::memcpy(header, kFrameFileMagic, 8);
  PutU32(header + 8, kFrameFileVersion);
  PutU32(header + 12, kFrameFileHeaderSize);
  if (std::fwrite(header, 1, sizeof(header), f) != sizeof(header)) {
    const int err = errno;
    std::fclose(f);
    return ErrnoStatus(StatusCode::kInternal, "writing header of " + path, err);
  }
  return std::unique_ptr<FrameFileWriter>(new FrameFileWriter(f, path));
}

FrameFileWriter::~FrameFileWriter() { Close().IgnoreError(); }

Status FrameFileWriter::Append(std::span<const uint8_t> record) {
  if (f_ == nullptr) return Closed("frame file " + path_ + " is closed");
  if (record.size() < 4 || GetU32(record.data()) != record.size() - 4) {
    return InvalidArgument("record is not a size-prefixed buffer");
  }
  if (std::fwrite(record.data(), 1, record.size(), f_) != record.size()) {
    return ErrnoStatus(StatusCode::kInternal, "writing " + path_, errno);
  }
  ++records_;
  bytes_ += record.size();
  return Status::Ok();
}

Status FrameFileWriter::Flush() {
  if (f_ != nullptr && std::fflush(f_) != 0) return ErrnoStatus(StatusCode::kInternal, "flushing " + path_, errno);
  return Status::Ok();
}

Status FrameFileWriter::Close() {
  if (f_ == nullptr) return Status::Ok();
  const int r = std::fclose(f_);
  f_ = nullptr;
  if (r != 0) return ErrnoStatus(StatusCode::kInternal, "closing " + path_, errno);
  return Status::Ok();
}

Result<std::unique_ptr<FrameFileReader>> FrameFileReader::Open(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoStatus(StatusCode::kNotFound, "cannot open frame file " + path, errno);
  std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return FromBytes(std::move(data), path);
}

Result<std::unique_ptr<FrameFileReader>> FrameFileReader::FromBytes(std::vector<uint8_t> data, std::string name) {
  if (data.size() < kFrameFileHeaderSize || std::memcmp(data.data(), kFrameFileMagic, 8) != 0) {
    return InvalidArgument(name + ": not a crv frame file (no CRVFRAME header)");
  }
  const uint32_t version = GetU32(data.data() + 8);
  const uint32_t header_size = GetU32(data.data() + 12);
  if (version != kFrameFileVersion) {
    return InvalidArgument(name + ": frame file version " + std::to_string(version) +
                           " is not supported (this crv reads version " + std::to_string(kFrameFileVersion) + ")");
  }
  if (header_size != kFrameFileHeaderSize) {
    return InvalidArgument(name + ": unexpected header size " + std::to_string(header_size));
  }
  return std::unique_ptr<FrameFileReader>(new FrameFileReader(std::move(data), std::move(name)));
}

Result<std::optional<std::vector<uint8_t>>> FrameFileReader::Next() {
  if (failed_ || offset_ == data_.size()) return std::optional<std::vector<uint8_t>>();
  const uint64_t left = data_.size() - offset_;
  auto tail = [&](const std::string& what) {
    failed_ = true;
    return DataLoss(name_ + ": " + what + " at byte " + std::to_string(offset_) + " after " + std::to_string(records_) +
                    " complete records (" + std::to_string(left) + " bytes dropped)");
  };
  if (left < 4) return tail("truncated record header");
  const uint32_t size = GetU32(data_.data() + offset_);
  if (size > kMaxBatchBytes) return tail("corrupt record size " + std::to_string(size));
  if (left - 4 < size) return tail("truncated record (" + std::to_string(size) + " bytes announced)");
  std::vector<uint8_t> rec(data_.begin() + static_cast<ptrdiff_t>(offset_),
                           data_.begin() + static_cast<ptrdiff_t>(offset_ + 4 + size));
  offset_ += 4 + size;
  ++records_;
  return std::optional<std::vector<uint8_t>>(std::move(rec));
}

}  // namespace crv
