// Range parsing against RFC 9110's examples and edge cases, and ServeFile end to end:
// a real libsoup server (its own thread and main context) answering a real HTTP client.
#include "rpc/FileServe.hpp"
#include "tests/rpc/Harness.hpp"

#include <glib/gstdio.h>
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

using namespace atrium::rpc;
using atrium::test::HttpClient;
using atrium::test::HttpReply;

namespace {

using Kind = RangeRequest::Kind;

TEST(ParseRange, SingleRanges) {
  auto r = ParseRange("bytes=0-499", 10000);
  ASSERT_EQ(r.kind, Kind::Partial);
  ASSERT_EQ(r.ranges.size(), 1u);
  EXPECT_EQ(r.ranges[0].first, 0u);
  EXPECT_EQ(r.ranges[0].last, 499u);
  r = ParseRange("bytes=500-999", 10000);
  EXPECT_EQ(r.ranges[0].length(), 500u);
  r = ParseRange("bytes=9500-", 10000);
  EXPECT_EQ(r.ranges[0].first, 9500u);
  EXPECT_EQ(r.ranges[0].last, 9999u);
  r = ParseRange("bytes=-500", 10000);
  EXPECT_EQ(r.ranges[0].first, 9500u);
  EXPECT_EQ(r.ranges[0].last, 9999u);
  r = ParseRange("bytes=-50000", 10000);  // a suffix longer than the file is the whole file
  EXPECT_EQ(r.ranges[0].first, 0u);
  EXPECT_EQ(r.ranges[0].last, 9999u);
  r = ParseRange("bytes=9000-20000", 10000);  // clipped to the end
  EXPECT_EQ(r.ranges[0].last, 9999u);
  r = ParseRange("BYTES = 1-2", 10);  // not "bytes=": ignored
  EXPECT_EQ(r.kind, Kind::Whole);
}

TEST(ParseRange, SeveralRanges) {
  auto r = ParseRange("bytes=0-0, -1 ,500-600,,", 10000);
  ASSERT_EQ(r.kind, Kind::Partial);
  ASSERT_EQ(r.ranges.size(), 3u);
  EXPECT_EQ(r.ranges[1].first, 9999u);
  EXPECT_EQ(r.ranges[2].first, 500u);
  // Unsatisfiable parts are dropped while others remain.
  r = ParseRange("bytes=20000-30000, 0-9", 10000);
  ASSERT_EQ(r.ranges.size(), 1u);
  EXPECT_EQ(r.ranges[0].last, 9u);
}

TEST(ParseRange, Unsatisfiable) {
  EXPECT_EQ(ParseRange("bytes=10000-", 10000).kind, Kind::Unsatisfiable);
  EXPECT_EQ(ParseRange("bytes=-0", 10000).kind, Kind::Unsatisfiable);
  EXPECT_EQ(ParseRange("bytes=0-10", 0).kind, Kind::Unsatisfiable);
  EXPECT_EQ(ParseRange("bytes=-5", 0).kind, Kind::Unsatisfiable);
}

TEST(ParseRange, InvalidIsIgnored) {
  for (const char* bad : {"", "bytes=", "bytes=,", "bytes=abc", "bytes=5-1", "bytes=1-2-3", "items=0-1",
                          "bytes=0x10-20", "bytes=+1-2", "bytes=99999999999999999999-", "bytes=1 - 2x",
                          "bytes=--1", "bytes=-"}) {
    EXPECT_EQ(ParseRange(bad, 1000).kind, Kind::Whole) << bad;
  }
  std::string many = "bytes=";
  for (size_t i = 0; i <= kMaxRanges; i++) many += std::to_string(i) + "-" + std::to_string(i) + ",";
  EXPECT_EQ(ParseRange(many, 1000).kind, Kind::Whole);
}

TEST(ContentDisposition, KeepsNamesSafe) {
  EXPECT_EQ(ContentDisposition("report.webm"), "attachment; filename=\"report.webm\"; filename*=UTF-8''report.webm");
  std::string d = ContentDisposition("Réunion \"x\"/../a.mp4", false);
  EXPECT_EQ(d.rfind("inline; filename=\"R__union _x__.._a.mp4\"", 0), 0u) << d;
  EXPECT_NE(d.find("filename*=UTF-8''R%C3%A9union%20%22x%22%2F..%2Fa.mp4"), std::string::npos) << d;
}

// A libsoup server on its own thread that serves one file at /file and a missing one at /missing.
class FileServer {
public:
  explicit FileServer(std::string path) : path_(std::move(path)) {
    thread_ = std::thread([this] { Run(); });
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [this] { return port_ != 0; });
  }
  ~FileServer() {
    g_main_loop_quit(loop_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

private:
  void Run() {
    GMainContext* ctx = g_main_context_new();
    g_main_context_push_thread_default(ctx);
    loop_ = g_main_loop_new(ctx, FALSE);
    SoupServer* server = SOUP_SERVER(g_object_new(SOUP_TYPE_SERVER, nullptr));
    soup_server_add_handler(
        server, "/",
        [](SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*, gpointer data) {
          auto* self = static_cast<FileServer*>(data);
          std::string file = g_str_equal(path, "/file") ? self->path_ : self->path_ + ".missing";
          ServeFile(msg, file, "video/webm", "Meeting – 1.webm");
        },
        this, nullptr);
    GInetAddress* addr = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    GSocketAddress* sa = g_inet_socket_address_new(addr, 0);
    GError* err = nullptr;
    soup_server_listen(server, sa, SoupServerListenOptions(0), &err);
    g_assert_no_error(err);
    GSList* uris = soup_server_get_uris(server);
    {
      std::lock_guard lock(mutex_);
      port_ = uint16_t(g_uri_get_port(static_cast<GUri*>(uris->data)));
    }
    g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
    ready_.notify_all();
    g_main_loop_run(loop_);
    soup_server_disconnect(server);
    g_object_unref(server);
    g_object_unref(sa);
    g_object_unref(addr);
    g_main_loop_unref(loop_);
    g_main_context_pop_thread_default(ctx);
    g_main_context_unref(ctx);
  }

  std::string path_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable ready_;
  uint16_t port_ = 0;
  GMainLoop* loop_ = nullptr;
};

class ServeFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = g_dir_make_tmp("atrium-fileserve-XXXXXX", nullptr);
    path_ = std::string(dir_) + "/data.bin";
    content_.resize(3 * 1024 * 1024 + 17);  // several chunks, not a multiple of one
    for (size_t i = 0; i < content_.size(); i++) content_[i] = char((i * 7919) >> 3);
    std::ofstream(path_, std::ios::binary).write(content_.data(), std::streamsize(content_.size()));
    server_ = std::make_unique<FileServer>(path_);
    client_ = std::make_unique<HttpClient>(server_->url());
  }
  void TearDown() override {
    client_.reset();
    server_.reset();
    g_unlink(path_.c_str());
    g_rmdir(dir_);
    g_free(dir_);
  }
  HttpReply Get(const std::map<std::string, std::string>& headers = {}, const char* method = "GET",
                const char* path = "/file") {
    return client_->Request(method, path, {}, headers);
  }

  gchar* dir_ = nullptr;
  std::string path_;
  std::string content_;
  std::unique_ptr<FileServer> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(ServeFileTest, WholeFile) {
  auto r = Get();
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, content_);
  EXPECT_EQ(r.contentType, "video/webm");
  EXPECT_EQ(r.Header("accept-ranges"), "bytes");
  EXPECT_EQ(r.Header("content-length"), std::to_string(content_.size()));
  EXPECT_NE(r.Header("content-disposition").find("filename*=UTF-8''Meeting%20%E2%80%93%201.webm"), std::string::npos);
  EXPECT_FALSE(r.Header("etag").empty());
  EXPECT_FALSE(r.Header("last-modified").empty());
}

TEST_F(ServeFileTest, Head) {
  auto r = Get({}, "HEAD");
  EXPECT_EQ(r.status, 200u);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.Header("content-length"), std::to_string(content_.size()));
}

TEST_F(ServeFileTest, FirstMiddleAndSuffixRanges) {
  auto r = Get({{"Range", "bytes=0-99"}});
  EXPECT_EQ(r.status, 206u);
  EXPECT_EQ(r.body, content_.substr(0, 100));
  EXPECT_EQ(r.Header("content-range"), "bytes 0-99/" + std::to_string(content_.size()));
  r = Get({{"Range", "bytes=1000000-2100000"}});
  EXPECT_EQ(r.status, 206u);
  EXPECT_EQ(r.body, content_.substr(1000000, 1100001));
  r = Get({{"Range", "bytes=-1000"}});
  EXPECT_EQ(r.status, 206u);
  EXPECT_EQ(r.body, content_.substr(content_.size() - 1000));
}

TEST_F(ServeFileTest, SeveralRangesAsMultipart) {
  auto r = Get({{"Range", "bytes=0-9,100-109"}});
  EXPECT_EQ(r.status, 206u);
  ASSERT_EQ(r.contentType, "multipart/byteranges");
  std::string size = std::to_string(content_.size());
  EXPECT_NE(r.body.find("Content-Range: bytes 0-9/" + size + "\r\n\r\n" + content_.substr(0, 10)), std::string::npos);
  EXPECT_NE(r.body.find("Content-Range: bytes 100-109/" + size + "\r\n\r\n" + content_.substr(100, 10)),
            std::string::npos);
  EXPECT_EQ(r.body.substr(r.body.size() - 4), "--\r\n");
}

TEST_F(ServeFileTest, UnsatisfiableIs416) {
  auto r = Get({{"Range", "bytes=" + std::to_string(content_.size()) + "-"}});
  EXPECT_EQ(r.status, 416u);
  EXPECT_EQ(r.Header("content-range"), "bytes */" + std::to_string(content_.size()));
}

TEST_F(ServeFileTest, IfRangeWithOldValidatorGetsWholeFile) {
  std::string etag = Get({}, "HEAD").Header("etag");
  EXPECT_EQ(Get({{"Range", "bytes=0-9"}, {"If-Range", etag}}).status, 206u);
  auto r = Get({{"Range", "bytes=0-9"}, {"If-Range", "\"stale\""}});
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body.size(), content_.size());
}

TEST_F(ServeFileTest, MissingFileAndOtherMethods) {
  EXPECT_EQ(Get({}, "GET", "/missing").status, 404u);
  auto r = Get({}, "DELETE");
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(r.Header("allow"), "GET, HEAD");
}

}  // namespace
