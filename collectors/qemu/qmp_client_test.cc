#include "collectors/qemu/qmp_client.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <thread>

namespace crv {
namespace {

TEST(QmpReaderTest, SplitsLinesAcrossFeeds) {
  QmpReader r;
  r.Feed("{\"a\":1}\n{\"b\"", 12);
  auto m = r.Next();
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(m->has_value());
  EXPECT_EQ((**m)["a"], 1);
  m = r.Next();
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->has_value());
  r.Feed(":2}\n", 4);
  m = r.Next();
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_EQ((**m)["b"], 2);
}

TEST(QmpReaderTest, MalformedLineIsReportedAndSkipped) {
  QmpReader r;
  const std::string s = "{not json\n[1,2]\n{\"ok\":true}\n";
  r.Feed(s.data(), s.size());
  auto m = r.Next();
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("not valid JSON"), std::string::npos);
  m = r.Next();
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("not a JSON object"), std::string::npos);
  m = r.Next();
  ASSERT_TRUE(m.ok() && m->has_value());
}

TEST(QmpReaderTest, OverlongLineIsDiscarded) {
  QmpReader r;
  std::string chunk(1 << 20, 'x');
  bool failed = false;
  for (int i = 0; i < 10 && !failed; ++i) {
    r.Feed(chunk.data(), chunk.size());
    failed = !r.Next().ok();
  }
  EXPECT_TRUE(failed);
  r.Feed("\n{\"x\":1}\n", 9);
  auto m = r.Next();  // rest of the overlong line: invalid JSON
  m = m.ok() ? m : r.Next();
  ASSERT_TRUE(m.ok() && m->has_value());
}

// A scripted QMP server on a UNIX socket in a temp directory.
class FakeQmpServer {
 public:
  using Script = std::function<void(int fd)>;
  explicit FakeQmpServer(Script script) {
    char tmpl[] = "/tmp/crv-qmp-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/qmp.sock";
    listen_fd_ = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(listen_fd_, 1), 0);
    thread_ = std::thread([this, script] {
      int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd >= 0) {
        script(fd);
        close(fd);
      }
    });
  }
  ~FakeQmpServer() {
    shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    close(listen_fd_);
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }

  static void Send(int fd, const std::string& s) { ASSERT_EQ(write(fd, s.data(), s.size()), (ssize_t)s.size()); }
  // Reads one request line and returns its "id".
  static nlohmann::json ReadRequest(int fd) {
    std::string line;
    char c;
    while (read(fd, &c, 1) == 1 && c != '\n') line += c;
    return nlohmann::json::parse(line, nullptr, false);
  }
  static constexpr const char* kGreeting =
      "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}}, \"capabilities\": []}}\n";

 private:
  std::string dir_, path_;
  int listen_fd_ = -1;
  std::thread thread_;
};

void Handshake(int fd) {
  FakeQmpServer::Send(fd, FakeQmpServer::kGreeting);
  auto req = FakeQmpServer::ReadRequest(fd);
  EXPECT_EQ(req["execute"], "qmp_capabilities");
  FakeQmpServer::Send(fd, "{\"return\": {}, \"id\": " + req["id"].dump() + "}\n");
}

TEST(QmpClientTest, CommandsEventsAndErrors) {
  FakeQmpServer server([](int fd) {
    Handshake(fd);
    auto req = FakeQmpServer::ReadRequest(fd);
    EXPECT_EQ(req["arguments"]["command-line"], "info registers -a");
    // An event and a stale reply arrive before the answer.
    FakeQmpServer::Send(fd, "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 5, \"microseconds\": 7}}\n");
    FakeQmpServer::Send(fd, "{\"return\": \"stale\", \"id\": 999}\n");
    FakeQmpServer::Send(fd, "{\"return\": \"CPU#0\\r\\nRIP=1\\r\\n\", \"id\": " + req["id"].dump() + "}\n");
    req = FakeQmpServer::ReadRequest(fd);
    FakeQmpServer::Send(
        fd,
        "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command nope has not been found\"}, \"id\": " +
            req["id"].dump() + "}\n");
  });
  auto client = QmpClient::Connect(server.path());
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_EQ((*client)->greeting()["QMP"]["version"]["qemu"]["major"], 7);
  auto text = (*client)->HumanMonitorCommand("info registers -a");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, "CPU#0\r\nRIP=1\r\n");
  auto events = (*client)->TakeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].name, "STOP");
  EXPECT_EQ(events[0].timestamp_us, 5'000'007);
  auto err = (*client)->Execute("nope");
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.status().message(), "QMP command nope failed: CommandNotFound: The command nope has not been found");
}

TEST(QmpClientTest, TimeoutThenQemuGone) {
  FakeQmpServer server([](int fd) {
    Handshake(fd);
    FakeQmpServer::ReadRequest(fd);  // never answered
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  });  // then the connection closes, as when QEMU exits
  auto client = QmpClient::Connect(server.path());
  ASSERT_TRUE(client.ok());
  auto r = (*client)->Execute("query-status", nullptr, Millis(100));
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(r.status().message().find("query-status"), std::string::npos);
  r = (*client)->Execute("query-status", nullptr, Millis(2000));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("did QEMU exit?"), std::string::npos) << r.status().message();
  // Every later call fails the same way, at once.
  EXPECT_EQ((*client)->Execute("query-status").status().code(), StatusCode::kUnavailable);
}

TEST(QmpClientTest, WaitEvent) {
  FakeQmpServer server([](int fd) {
    Handshake(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    FakeQmpServer::Send(fd, "{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true}}\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  });
  auto client = QmpClient::Connect(server.path());
  ASSERT_TRUE(client.ok());
  auto ev = (*client)->WaitEvent(Millis(2000));
  ASSERT_TRUE(ev.ok() && ev->has_value());
  EXPECT_EQ((*ev)->name, "SHUTDOWN");
  EXPECT_EQ((*ev)->data["guest"], true);
  ev = (*client)->WaitEvent(Millis(20));
  ASSERT_TRUE(ev.ok());
  EXPECT_FALSE(ev->has_value());
}

TEST(QmpClientTest, NotQmpOrMissingSocket) {
  auto missing = QmpClient::Connect("/nonexistent/dir/qmp.sock");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/dir/qmp.sock"), std::string::npos);

  FakeQmpServer server([](int fd) { FakeQmpServer::Send(fd, "{\"hello\": 1}\n"); });
  auto c = QmpClient::Connect(server.path());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("not a QMP server"), std::string::npos);
}

TEST(QmpClientTest, RefusedSocket) {
  // A socket file with nobody listening: connection refused.
  char tmpl[] = "/tmp/crv-qmp-refused-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string path = dir + "/qmp.sock";
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  close(fd);
  auto c = QmpClient::Connect(path);
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(c.status().message().find("refused"), std::string::npos) << c.status().message();
  unlink(path.c_str());
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace crv
