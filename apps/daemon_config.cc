#include "apps/daemon_config.h"

#include <yaml-cpp/yaml.h>

#include <set>
#include <sstream>

namespace crv::app {
namespace {

const std::vector<ConfigKey> kKafkaKeys = {
    {"kafka.brokers", "127.0.0.1:9092", "bootstrap servers, host:port[,host:port...]"},
    {"kafka.frames_topic", "crv.frames", "frame batches, keyed by VM id"},
    {"kafka.states_topic", "crv.states", "state transitions and verdicts, keyed by VM id"},
    {"kafka.actions_topic", "crv.actions", "action requests (screenshot, screen confirmation) for host agents"},
    {"kafka.results_topic", "crv.action-results", "results of actions (screenshot path, OCR text)"},
    {"kafka.partitions", "12", "partitions of the topics crv creates when they do not exist (VMs spread over them)"},
    {"kafka.replication_factor", "-1", "replication of the topics crv creates (-1: the broker's default)"},
    {"kafka.properties.*", "", "any librdkafka property, e.g. linger.ms, compression.type, security.protocol"},
};

std::vector<ConfigKey> With(std::vector<ConfigKey> keys) {
  keys.insert(keys.begin(), kKafkaKeys.begin(), kKafkaKeys.end());
  return keys;
}

// A YAML document walked against a key table.
class Doc {
 public:
  Doc(std::string file, const std::vector<ConfigKey>& keys) : file_(std::move(file)) {
    for (const auto& k : keys) known_.insert(k.path);
  }

  Status Load(const std::string& path) {
    if (path.empty()) return Status::Ok();
    try {
      root_ = YAML::LoadFile(path);
    } catch (const YAML::BadFile&) {
      return NotFound(file_ + ": cannot be read");
    } catch (const YAML::Exception& e) {
      return InvalidArgument(file_ + ": not valid YAML: " + e.what());
    }
    if (root_.IsNull()) return Status::Ok();
    if (!root_.IsMap()) return InvalidArgument(file_ + ": the top level must be a mapping of keys");
    return Walk(root_, "");
  }

  template <typename T>
  Status Get(const std::string& key, T* out) const {
    YAML::Node n = Find(key);
    if (!n) return Status::Ok();
    try {
      *out = n.as<T>();
    } catch (const YAML::Exception&) {
      return Bad(key, n, "has the wrong type");
    }
    return Status::Ok();
  }

  YAML::Node Find(const std::string& key) const {
    // reset() rebinds the handle; assigning a Node would overwrite the
    // document (yaml-cpp's value semantics), and a clone loses the line.
    YAML::Node n;
    n.reset(root_);
    std::stringstream ss(key);
    for (std::string part; std::getline(ss, part, '.');) {
      if (!n || !n.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
      const YAML::Node& cn = n;
      YAML::Node child = cn[part];
      if (!child) return YAML::Node(YAML::NodeType::Undefined);
      n.reset(child);
    }
    return n;
  }

  Status Bad(const std::string& key, const YAML::Node& n, const std::string& why) const {
    return InvalidArgument(file_ + ":" + std::to_string(n.Mark().line + 1) + ": " + key + " " + why);
  }

 private:
  Status Walk(const YAML::Node& node, const std::string& prefix) {
    for (const auto& kv : node) {
      const std::string name = kv.first.as<std::string>();
      const std::string path = prefix.empty() ? name : prefix + "." + name;
      const YAML::Node& v = kv.second;
      if (known_.count(prefix + ".*")) {
        if (!v.IsScalar()) return Bad(path, v, "must be a single value");
        continue;
      }
      if (v.IsMap() && !known_.count(path)) {
        CRV_RETURN_IF_ERROR(Walk(v, path));
        continue;
      }
      if (v.IsSequence() && HasChildren(path + "[]")) {
        for (const auto& item : v) {
          if (!item.IsMap()) return Bad(path, item, "entries must be mappings");
          for (const auto& f : item) {
            const std::string fp = path + "[]." + f.first.as<std::string>();
            if (!known_.count(fp)) return Unknown(fp, f.first);
          }
        }
        continue;
      }
      if (!known_.count(path)) return Unknown(path, kv.first);
    }
    return Status::Ok();
  }
  bool HasChildren(const std::string& prefix) const {
    for (const auto& k : known_) {
      if (k.rfind(prefix + ".", 0) == 0) return true;
    }
    return false;
  }
  Status Unknown(const std::string& path, const YAML::Node& n) const {
    std::string near;
    const std::string parent = path.substr(0, path.rfind('.') == std::string::npos ? 0 : path.rfind('.'));
    for (const auto& k : known_) {
      if (k.rfind(parent, 0) == 0 && k.find('*') == std::string::npos) near += (near.empty() ? "" : ", ") + k;
    }
    return Bad(path, n, "is not a known key (known: " + near + ")");
  }

  std::string file_;
  std::set<std::string> known_;
  YAML::Node root_;
};

Status LoadKafka(const Doc& d, KafkaSection* k) {
  CRV_RETURN_IF_ERROR(d.Get("kafka.brokers", &k->brokers));
  CRV_RETURN_IF_ERROR(d.Get("kafka.frames_topic", &k->frames_topic));
  CRV_RETURN_IF_ERROR(d.Get("kafka.states_topic", &k->states_topic));
  CRV_RETURN_IF_ERROR(d.Get("kafka.actions_topic", &k->actions_topic));
  CRV_RETURN_IF_ERROR(d.Get("kafka.results_topic", &k->results_topic));
  CRV_RETURN_IF_ERROR(d.Get("kafka.partitions", &k->partitions));
  CRV_RETURN_IF_ERROR(d.Get("kafka.replication_factor", &k->replication_factor));
  if (k->partitions < 1) return d.Bad("kafka.partitions", d.Find("kafka.partitions"), "must be at least 1");
  if (YAML::Node p = d.Find("kafka.properties"); p && p.IsMap()) {
    for (const auto& kv : p) k->properties[kv.first.as<std::string>()] = kv.second.as<std::string>();
  }
  if (k->brokers.empty()) return InvalidArgument("kafka.brokers must not be empty");
  return Status::Ok();
}

}  // namespace

const std::vector<ConfigKey>& CollectKeys() {
  static const auto* keys = new std::vector<ConfigKey>(With({
      {"host", "(this host's name)", "name of this hypervisor host; action requests are routed by it"},
      {"sampling.hz", "50", "register snapshots per second, per VM"},
      {"sampling.ticks_per_message", "5", "ticks packed into one Kafka message (throughput vs latency)"},
      {"discovery.qmp_dir", "", "a directory of QMP sockets: every *.sock or *.qmp in it is a VM (id = file name)"},
      {"discovery.libvirt_uri", "", "watch every running domain of this libvirt connection (e.g. qemu:///system)"},
      {"discovery.xen", "false", "watch every guest domain of this Xen host (crv in dom0)"},
      {"discovery.rescan_seconds", "5", "how often the directory and the VM list are checked for new VMs"},
      {"discovery.vms", "[]", "VMs to watch, each with an id and one of qmp, libvirt, xen"},
      {"discovery.vms[].id", "", "VM id in frames and states (default: the backend's name)"},
      {"discovery.vms[].qmp", "", "QMP socket of the VM"},
      {"discovery.vms[].libvirt", "", "libvirt domain name or UUID"},
      {"discovery.vms[].libvirt_uri", "qemu:///system", "libvirt connection for that domain"},
      {"discovery.vms[].xen", "", "Xen domain name or id"},
      {"metrics.listen", "127.0.0.1:9464", "Prometheus /metrics address (\"\" turns it off)"},
      {"metrics.auth_file", "", "a mode-600 file with USER:PASSWORD: /metrics requires HTTP basic auth"},
      {"actions.out_dir", "crv-collect", "where screenshots are written"},
      {"actions.ocr_timeout_ms", "30000", "time limit of one OCR run"},
      {"actions.settle_ms", "500", "time between the two screenshots of a screen confirmation"},
      {"shutdown.flush_timeout_ms", "10000", "how long SIGTERM waits for queued frames to reach Kafka"},
  }));
  return *keys;
}

const std::vector<ConfigKey>& ProcessKeys() {
  static const auto* keys = new std::vector<ConfigKey>(With({
      {"group", "crv-process", "Kafka consumer group of the processing daemons (VMs are spread over its members)"},
      {"model", "(the shipped model)", "decision-tree model file"},
      {"window.hop", "5", "ticks between classified windows"},
      {"states.min_dwell", "5", "consecutive windows before a state change counts"},
      {"states.min_confidence", "0.8", "leaf purity below which a window moves nothing"},
      {"states.success", "[boot_success, app_loaded]", "states that mean booted (confirmed on the screen)"},
      {"states.failure", "[boot_failure]", "states that mean boot failure"},
      {"states.max_boot_seconds", "300", "seconds without success before the verdict is a time-out"},
      {"states.confirm_retry_seconds", "2", "how often a success candidate asks its host to check the screen"},
      {"records.db", "crv-process/boot-status.sqlite3", "SQLite boot-status log"},
      {"metrics.listen", "127.0.0.1:9465", "Prometheus /metrics address (\"\" turns it off)"},
      {"metrics.auth_file", "", "a mode-600 file with USER:PASSWORD: /metrics requires HTTP basic auth"},
  }));
  return *keys;
}

std::string DescribeKeys(const std::vector<ConfigKey>& keys) {
  std::string out;
  for (const auto& k : keys) {
    char line[512];
    std::snprintf(line, sizeof line, "  %-30s %-22s %s\n", k.path.c_str(),
                  k.default_value.empty() ? "-" : k.default_value.c_str(), k.doc.c_str());
    out += line;
  }
  return out;
}

namespace {
Result<CollectConfig> LoadCollect(const std::string& path) {
  Doc d(path.empty() ? "(defaults)" : path, CollectKeys());
  CRV_RETURN_IF_ERROR(d.Load(path));
  CollectConfig c;
  CRV_RETURN_IF_ERROR(LoadKafka(d, &c.kafka));
  CRV_RETURN_IF_ERROR(d.Get("host", &c.host));
  CRV_RETURN_IF_ERROR(d.Get("sampling.hz", &c.hz));
  CRV_RETURN_IF_ERROR(d.Get("sampling.ticks_per_message", &c.ticks_per_message));
  CRV_RETURN_IF_ERROR(d.Get("discovery.qmp_dir", &c.qmp_dir));
  CRV_RETURN_IF_ERROR(d.Get("discovery.rescan_seconds", &c.rescan_seconds));
  CRV_RETURN_IF_ERROR(d.Get("discovery.libvirt_uri", &c.libvirt_uri));
  CRV_RETURN_IF_ERROR(d.Get("discovery.xen", &c.xen));
  CRV_RETURN_IF_ERROR(d.Get("metrics.auth_file", &c.metrics_auth_file));
  CRV_RETURN_IF_ERROR(d.Get("metrics.listen", &c.metrics_listen));
  CRV_RETURN_IF_ERROR(d.Get("actions.out_dir", &c.out_dir));
  CRV_RETURN_IF_ERROR(d.Get("actions.ocr_timeout_ms", &c.ocr_timeout_ms));
  CRV_RETURN_IF_ERROR(d.Get("actions.settle_ms", &c.settle_ms));
  CRV_RETURN_IF_ERROR(d.Get("shutdown.flush_timeout_ms", &c.flush_timeout_ms));
  if (YAML::Node vms = d.Find("discovery.vms"); vms && vms.IsSequence()) {
    for (const auto& v : vms) {
      VmEntry e;
      if (v["id"]) e.id = v["id"].as<std::string>();
      if (v["qmp"]) e.qmp = v["qmp"].as<std::string>();
      if (v["libvirt"]) e.libvirt = v["libvirt"].as<std::string>();
      if (v["libvirt_uri"]) e.libvirt_uri = v["libvirt_uri"].as<std::string>();
      if (v["xen"]) e.xen = v["xen"].as<std::string>();
      if (!e.qmp.empty() + !e.libvirt.empty() + !e.xen.empty() != 1) {
        return d.Bad("discovery.vms[]", v, "entries need exactly one of qmp, libvirt, xen");
      }
      c.vms.push_back(std::move(e));
    }
  }
  if (!(c.hz > 0 && c.hz <= 10000)) return d.Bad("sampling.hz", d.Find("sampling.hz"), "must be in (0, 10000]");
  if (c.ticks_per_message < 1 || c.ticks_per_message > 1000) {
    return d.Bad("sampling.ticks_per_message", d.Find("sampling.ticks_per_message"), "must be in 1..1000");
  }
  if (c.rescan_seconds <= 0) {
    return d.Bad("discovery.rescan_seconds", d.Find("discovery.rescan_seconds"), "must be positive");
  }
  return c;
}

Result<ProcessConfig> LoadProcess(const std::string& path) {
  Doc d(path.empty() ? "(defaults)" : path, ProcessKeys());
  CRV_RETURN_IF_ERROR(d.Load(path));
  ProcessConfig c;
  CRV_RETURN_IF_ERROR(LoadKafka(d, &c.kafka));
  CRV_RETURN_IF_ERROR(d.Get("group", &c.group));
  CRV_RETURN_IF_ERROR(d.Get("model", &c.model));
  CRV_RETURN_IF_ERROR(d.Get("window.hop", &c.hop));
  CRV_RETURN_IF_ERROR(d.Get("states.min_dwell", &c.states.min_dwell));
  CRV_RETURN_IF_ERROR(d.Get("states.min_confidence", &c.states.min_confidence));
  CRV_RETURN_IF_ERROR(d.Get("states.success", &c.states.success_states));
  CRV_RETURN_IF_ERROR(d.Get("states.failure", &c.states.failure_states));
  CRV_RETURN_IF_ERROR(d.Get("states.max_boot_seconds", &c.states.max_boot_seconds));
  CRV_RETURN_IF_ERROR(d.Get("states.confirm_retry_seconds", &c.confirm_retry_seconds));
  CRV_RETURN_IF_ERROR(d.Get("records.db", &c.db));
  CRV_RETURN_IF_ERROR(d.Get("metrics.auth_file", &c.metrics_auth_file));
  CRV_RETURN_IF_ERROR(d.Get("metrics.listen", &c.metrics_listen));
  if (c.group.empty()) return InvalidArgument(path + ": group must not be empty");
  if (c.hop == 0) return d.Bad("window.hop", d.Find("window.hop"), "must be at least 1");
  return c;
}
}  // namespace

// A value of the wrong shape deep inside (a list where a name belongs) is a
// yaml-cpp exception: it becomes an error, never a crash.
Result<CollectConfig> LoadCollectConfig(const std::string& path) {
  try {
    return LoadCollect(path);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

Result<ProcessConfig> LoadProcessConfig(const std::string& path) {
  try {
    return LoadProcess(path);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

}  // namespace crv::app
