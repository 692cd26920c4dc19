// Configuration of the daemons (`crv collect`, `crv process`): YAML files
// validated at start. Every key is declared once, in a table with its
// default and its meaning; the table drives validation (an unknown key is an
// error that names it, with its line), the defaults, and `--help`.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "operators/boot_state_machine.h"

namespace crv::app {

struct KafkaSection {
  std::string brokers = "127.0.0.1:9092";
  std::string frames_topic = "crv.frames";
  std::string states_topic = "crv.states";
  std::string actions_topic = "crv.actions";
  std::string results_topic = "crv.action-results";
  std::map<std::string, std::string> properties;  // librdkafka properties
  int partitions = 12;                            // for topics crv creates
  int replication_factor = -1;                    // -1: the broker's default
};

struct VmEntry {
  std::string id, qmp, libvirt, libvirt_uri = "qemu:///system", xen;
};

struct CollectConfig {
  std::string host;  // default: this host's name
  KafkaSection kafka;
  double hz = 50;
  int ticks_per_message = 5;
  std::string qmp_dir;
  std::string libvirt_uri;  // set: watch every running domain of this connection
  bool xen = false;         // watch every guest domain of this Xen host
  double rescan_seconds = 5;
  std::vector<VmEntry> vms;
  std::string metrics_listen = "127.0.0.1:9464";
  std::string metrics_auth_file;
  std::string out_dir = "crv-collect";
  int ocr_timeout_ms = 30000;
  int settle_ms = 500;
  int flush_timeout_ms = 10000;
};

struct ProcessConfig {
  KafkaSection kafka;
  std::string group = "crv-process";
  std::string model;  // default: the shipped model
  uint32_t hop = 5;
  BootStateConfig states;
  double confirm_retry_seconds = 2;
  std::string db = "crv-process/boot-status.sqlite3";
  std::string metrics_listen = "127.0.0.1:9465";
  std::string metrics_auth_file;
};

struct ConfigKey {
  std::string path;  // "kafka.brokers"; "discovery.vms[].qmp"; "kafka.properties.*"
  std::string default_value;
  std::string doc;
};

const std::vector<ConfigKey>& CollectKeys();
const std::vector<ConfigKey>& ProcessKeys();
// The keys as help text (one per line: key, default, meaning).
std::string DescribeKeys(const std::vector<ConfigKey>& keys);

// Loads and validates; an empty path gives the defaults. Errors name the
// file, the key and its line.
Result<CollectConfig> LoadCollectConfig(const std::string& path);
Result<ProcessConfig> LoadProcessConfig(const std::string& path);

}  // namespace crv::app
