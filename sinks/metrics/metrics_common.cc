// The parts of the metrics sink that do not depend on prometheus-cpp.
#include <sys/stat.h>

#include <fstream>

#include "sinks/metrics/metrics.h"

namespace crv {

std::string MetricsServer::url() const {
  const bool v6 = host_.find(':') != std::string::npos && host_.front() != '[';
  return "http://" + (v6 ? "[" + host_ + "]" : host_) + ":" + std::to_string(port_) + "/metrics";
}

Status LoadBasicAuthFile(const std::string& path, MetricsServerOptions* options) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return NotFound("metrics auth file " + path + ": cannot be read");
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return InvalidArgument("metrics auth file " + path + ": must not be readable by group or others (chmod 600)");
  }
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return InvalidArgument("metrics auth file " + path + ": empty");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  const auto colon = line.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == line.size()) {
    return InvalidArgument("metrics auth file " + path + ": line 1 must be USER:PASSWORD");
  }
  options->user = line.substr(0, colon);
  options->password = line.substr(colon + 1);
  return Status::Ok();
}

}  // namespace crv
