#include "sinks/screen.h"

#include <cctype>
#include <fstream>
#include <iterator>

namespace crv {

Result<Rect> ParseRect(const std::string& s) {
  Rect r;
  char extra = 0;
  if (std::sscanf(s.c_str(), "%d,%d,%d,%d%c", &r.x, &r.y, &r.w, &r.h, &extra) != 4 || r.w <= 0 || r.h <= 0 || r.x < 0 ||
      r.y < 0) {
    return InvalidArgument("rectangle \"" + s + "\" is not X,Y,W,H with W and H positive");
  }
  return r;
}

Result<Image> ParsePpm(const uint8_t* data, size_t size) {
  size_t pos = 0;
  auto skip_space = [&] {
    while (pos < size) {
      if (data[pos] == '#') {
        while (pos < size && data[pos] != '\n') ++pos;
      } else if (std::isspace(data[pos])) {
        ++pos;
      } else {
        break;
      }
    }
  };
  auto number = [&](const char* what) -> Result<long> {
    skip_space();
    long v = 0;
    size_t digits = 0;
    while (pos < size && data[pos] >= '0' && data[pos] <= '9' && digits < 9) {
      v = v * 10 + (data[pos++] - '0');
      ++digits;
    }
    if (digits == 0) return InvalidArgument(std::string("PPM: no ") + what + " in the header");
    return v;
  };
  if (size < 2 || data[0] != 'P' || data[1] != '6') return InvalidArgument("not a binary PPM (P6) image");
  pos = 2;
  CRV_ASSIGN_OR_RETURN(long w, number("width"));
  CRV_ASSIGN_OR_RETURN(long h, number("height"));
  CRV_ASSIGN_OR_RETURN(long maxval, number("maxval"));
  if (w <= 0 || h <= 0 || w > 16384 || h > 16384) {
    return InvalidArgument("PPM: size " + std::to_string(w) + "x" + std::to_string(h) + " out of range");
  }
  if (maxval != 255) return InvalidArgument("PPM: maxval " + std::to_string(maxval) + " is not supported");
  if (pos >= size || !std::isspace(data[pos])) return InvalidArgument("PPM: header not followed by whitespace");
  ++pos;
  const size_t need = static_cast<size_t>(w) * static_cast<size_t>(h) * 3;
  if (size - pos < need) {
    return DataLoss("PPM: " + std::to_string(size - pos) + " bytes of pixels, " + std::to_string(need) + " expected");
  }
  Image img;
  img.width = static_cast<int>(w);
  img.height = static_cast<int>(h);
  img.rgb.assign(data + pos, data + pos + need);
  return img;
}

Result<Image> ReadPpmFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read screenshot " + path);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() > kMaxImageBytes) return InvalidArgument(path + ": larger than " + std::to_string(kMaxImageBytes));
  auto img = ParsePpm(bytes.data(), bytes.size());
  if (!img.ok()) return img.status().WithContext(path);
  return img;
}

uint64_t CountChangedPixels(const Image& a, const Image& b, const std::vector<Rect>& mask) {
  if (a.width != b.width || a.height != b.height) {
    return static_cast<uint64_t>(std::max(a.width * a.height, b.width * b.height));
  }
  uint64_t changed = 0;
  for (int y = 0; y < a.height; ++y) {
    for (int x = 0; x < a.width; ++x) {
      bool masked = false;
      for (const Rect& r : mask) {
        if (x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h) {
          masked = true;
          break;
        }
      }
      if (masked) continue;
      const size_t i = (static_cast<size_t>(y) * a.width + x) * 3;
      if (a.rgb[i] != b.rgb[i] || a.rgb[i + 1] != b.rgb[i + 1] || a.rgb[i + 2] != b.rgb[i + 2]) ++changed;
    }
  }
  return changed;
}

Status Screendump(QmpClient& qmp, const std::string& path, const std::string& format) {
  nlohmann::json args = {{"filename", path}};
  if (format != "ppm") args["format"] = format;
  auto r = qmp.Execute("screendump", args, Millis(5000));
  if (!r.ok()) return r.status().WithContext("screenshot to " + path);
  return Status::Ok();
}

}  // namespace crv
