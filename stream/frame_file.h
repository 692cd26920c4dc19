// Frame files: recorded register frames for `crv record` / `crv replay`.
//
// Layout (little-endian):
//   header  "CRVFRAME" (8 bytes) | version u32 (= 1) | header size u32 (= 16)
//   records one size-prefixed FrameBatch each: u32 size | size bytes
// A reader checks the header, then returns records one by one. A truncated
// tail (a crash mid-write) is reported with its byte offset and the records
// before it are kept. A size prefix larger than kMaxBatchBytes is corruption:
// reading stops there with kDataLoss. Record contents are verified by the
// consumer (DecodeBatch), so one bad record does not end a replay.
// Thread-safety: one thread per reader or writer.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace crv {

constexpr char kFrameFileMagic[8] = {'C', 'R', 'V', 'F', 'R', 'A', 'M', 'E'};
constexpr uint32_t kFrameFileVersion = 1;
constexpr uint32_t kFrameFileHeaderSize = 16;

class FrameFileWriter {
 public:
  static Result<std::unique_ptr<FrameFileWriter>> Create(const std::string& path);
  ~FrameFileWriter();
  // `record` is a size-prefixed FrameBatch (its own u32 prefix included).
  Status Append(std::span<const uint8_t> record);
  Status Flush();
  Status Close();
  uint64_t records() const { return records_; }
  uint64_t bytes() const { return bytes_; }

 private:
  FrameFileWriter(FILE* f, std::string path) : f_(f), path_(std::move(path)) {}
  FILE* f_;
  std::string path_;
  uint64_t records_ = 0;
  uint64_t bytes_ = kFrameFileHeaderSize;
};

class FrameFileReader {
 public:
  // Opens `path` (or parses `data` for fuzzing/tests) and checks the header.
  static Result<std::unique_ptr<FrameFileReader>> Open(const std::string& path);
  static Result<std::unique_ptr<FrameFileReader>> FromBytes(std::vector<uint8_t> data, std::string name = "<memory>");

  // The next record (size prefix included, 8-aligned storage), nullopt at a
  // clean end, or kDataLoss naming the offset of a truncated/corrupt tail.
  Result<std::optional<std::vector<uint8_t>>> Next();
  uint64_t records() const { return records_; }
  uint64_t offset() const { return offset_; }
  const std::string& name() const { return name_; }

 private:
  FrameFileReader(std::vector<uint8_t> data, std::string name) : data_(std::move(data)), name_(std::move(name)) {}
  std::vector<uint8_t> data_;
  std::string name_;
  uint64_t offset_ = kFrameFileHeaderSize;
  uint64_t records_ = 0;
  bool failed_ = false;
};

}  // namespace crv
