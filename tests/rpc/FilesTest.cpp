// Meeting files against a real atriumd: multipart uploads over HTTP with a Bearer token,
// downloads with byte ranges, file.list and file.delete by hosts and non-hosts, files sent
// in chat by reference, and uploads over the size limit refused without leaving anything
// behind (no row, no file, no temporary file).
#include "tests/rpc/DaemonSuite.hpp"

#include <glib/gstdio.h>

namespace atrium::test {
namespace {

constexpr int kMaxSize = 1024;

struct Upload {
  std::string name = "notes.txt";
  std::string type = "text/plain";
  std::string field = "file";
  std::string data;
  bool chunked = false;        // no Content-Length: the server counts as the body arrives
  std::string contentType;      // overrides multipart/form-data
};

HttpReply Send(const std::string& url, const std::string& token, const Upload& u) {
  const std::string boundary = "atrium-test-boundary-7MA4YWxkTrZu0gW";
  std::string body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + u.field + "\"; filename=\"" +
                     u.name + "\"\r\nContent-Type: " + u.type + "\r\n\r\n" + u.data + "\r\n--" + boundary + "--\r\n";
  GRef<SoupSession> session = GRef<SoupSession>::adopt(soup_session_new());
  GRef<SoupMessage> msg = GRef<SoupMessage>::adopt(soup_message_new("POST", url.c_str()));
  SoupMessageHeaders* h = soup_message_get_request_headers(msg.get());
  if (!token.empty()) soup_message_headers_replace(h, "Authorization", ("Bearer " + token).c_str());
  std::string type = u.contentType.empty() ? "multipart/form-data; boundary=" + boundary : u.contentType;
  GBytes* bytes = g_bytes_new(body.data(), body.size());
  if (u.chunked) {
    GInputStream* in = g_memory_input_stream_new_from_bytes(bytes);
    soup_message_set_request_body(msg.get(), type.c_str(), in, -1);
    g_object_unref(in);
  } else {
    soup_message_set_request_body_from_bytes(msg.get(), type.c_str(), bytes);
  }
  g_bytes_unref(bytes);
  GError* err = nullptr;
  GBytes* out = soup_session_send_and_read(session.get(), msg.get(), nullptr, &err);
  HttpReply r;
  r.status = soup_message_get_status(msg.get());
  if (out) {
    gsize len = 0;
    const char* p = static_cast<const char*>(g_bytes_get_data(out, &len));
    r.body.assign(p ? p : "", len);
    g_bytes_unref(out);
  }
  g_clear_error(&err);  // a server that answers before reading everything may reset the upload
  return r;
}

std::vector<std::string> DirEntries(const std::string& path) {
  std::vector<std::string> out;
  if (GDir* d = g_dir_open(path.c_str(), 0, nullptr)) {
    while (const char* n = g_dir_read_name(d)) out.emplace_back(n);
    g_dir_close(d);
  }
  return out;
}

class FilesTest : public DaemonSuite {
protected:
  static void SetUpTestSuite() {
    StartDaemon("[ice]\naddresses = 127.0.0.1\n[files]\nmax-size = " + std::to_string(kMaxSize) + "\n");
  }
  void SetUp() override {
    host_ = AddUser("host");
    member_ = AddUser("member");
    outsider_ = AddUser("outsider");
    roomId_ = Ok(Call("room.create", {{"name", Unique("files")}}, host_.token))["roomId"];
    Ok(Call("room.members.add", {{"roomId", roomId_}, {"userId", member_.id}}, host_.token));
  }
  std::string FilesUrl(int64_t roomId) const { return daemon_->url() + "/rooms/" + std::to_string(roomId) + "/files"; }
  std::string FilePath(int64_t roomId, int64_t fileId) const {
    return "/rooms/" + std::to_string(roomId) + "/files/" + std::to_string(fileId);
  }
  HttpReply Get(const std::string& path, const std::string& token, std::map<std::string, std::string> headers = {}) {
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    return http_->Request("GET", path, {}, headers);
  }

  User host_, member_, outsider_;
  int64_t roomId_ = 0;
};

TEST_F(FilesTest, UploadShareDownloadDelete) {
  // A non-host participant is in the conference and hears about the upload.
  WsClient ws(daemon_->wsUrl());
  Ok(ws.Call("auth.resume", {{"token", member_.token}}));
  Ok(ws.Call("conference.join", {{"roomId", roomId_}}));

  Upload u;
  u.name = "../../etc/Agenda é.txt";
  u.data = "first line\nsecond line\n";
  HttpReply up = Send(FilesUrl(roomId_), host_.token, u);
  ASSERT_EQ(up.status, 201u) << up.body;
  json file = up.Json()["file"];
  int64_t fileId = file["fileId"];
  EXPECT_EQ(file["name"], "Agenda é.txt");  // the last path segment, for display only
  EXPECT_EQ(file["contentType"], "text/plain");
  EXPECT_EQ(file["size"], int64_t(u.data.size()));
  EXPECT_EQ(file["uploadedBy"], host_.id);
  EXPECT_EQ(file["url"], FilePath(roomId_, fileId));
  auto shared = ws.WaitNotification("fileShared");
  ASSERT_TRUE(shared);
  EXPECT_EQ((*shared)["params"]["file"]["fileId"], fileId);
  // Stored by id, never by the client's name.
  EXPECT_EQ(DirEntries(daemon_->dataDir() + "/files"), std::vector<std::string>{std::to_string(fileId)});

  // Listed for participants and the room's people, over WebSocket and HTTP.
  EXPECT_EQ(Ok(ws.Call("file.list", {{"roomId", roomId_}}))["files"].size(), 1u);
  EXPECT_EQ(Ok(Call("file.list", {{"roomId", roomId_}}, host_.token))["files"][0]["fileId"], fileId);
  EXPECT_EQ(ErrorCodeOf(Call("file.list", {{"roomId", roomId_}}, outsider_.token)), -32002);

  // Downloads: whole, a range, and refusals.
  HttpReply whole = Get(FilePath(roomId_, fileId), member_.token);
  EXPECT_EQ(whole.status, 200u);
  EXPECT_EQ(whole.body, u.data);
  EXPECT_EQ(whole.Header("x-content-type-options"), "nosniff");
  EXPECT_NE(whole.Header("content-disposition").find("attachment"), std::string::npos);
  HttpReply part = Get(FilePath(roomId_, fileId), member_.token, {{"Range", "bytes=6-9"}});
  EXPECT_EQ(part.status, 206u);
  EXPECT_EQ(part.body, "line");
  EXPECT_EQ(Get(FilePath(roomId_, fileId), outsider_.token).status, 403u);
  EXPECT_EQ(Get(FilePath(roomId_, fileId), "").status, 401u);
  EXPECT_EQ(Get(FilePath(roomId_, 999999), member_.token).status, 404u);
  int64_t other = Ok(Call("room.create", {{"name", Unique("other")}}, member_.token))["roomId"];
  EXPECT_EQ(Get(FilePath(other, fileId), member_.token).status, 404u);  // not a file of that room

  // Sent in chat by reference.
  json msg = Ok(ws.Call("chat.send", {{"content", ""}, {"fileId", fileId}}))["message"];
  EXPECT_EQ(msg["file"]["fileId"], fileId);
  EXPECT_EQ(ErrorCodeOf(ws.Call("chat.send", {{"content", "x"}, {"fileId", fileId + 1000}})), -32003);

  // The member uploads too; nobody but the uploader and hosts may delete.
  u.name = "member.png";
  u.type = "image/png";
  u.data = "\x89PNG fake";
  HttpReply mine = Send(FilesUrl(roomId_), member_.token, u);
  ASSERT_EQ(mine.status, 201u) << mine.body;
  int64_t memberFile = mine.Json()["file"]["fileId"];
  EXPECT_EQ(Get(FilePath(roomId_, memberFile), host_.token).Header("content-disposition").find("attachment"),
            std::string::npos);  // images are shown inline
  EXPECT_EQ(ErrorCodeOf(ws.Call("file.delete", {{"fileId", fileId}})), -32002);  // non-host, not the uploader
  EXPECT_EQ(ErrorCodeOf(Call("file.delete", {{"fileId", fileId}}, outsider_.token)), -32003);
  EXPECT_EQ(ErrorCodeOf(Call("file.delete", {{"fileId", 999999}}, host_.token)), -32003);
  Ok(ws.Call("file.delete", {{"fileId", memberFile}}));
  EXPECT_TRUE(ws.WaitNotification("fileDeleted"));
  Ok(Call("file.delete", {{"fileId", fileId}}, host_.token));
  auto deleted = ws.WaitNotification("fileDeleted");
  ASSERT_TRUE(deleted);
  EXPECT_EQ((*deleted)["params"]["fileId"], fileId);
  EXPECT_EQ(Get(FilePath(roomId_, fileId), host_.token).status, 404u);
  EXPECT_TRUE(DirEntries(daemon_->dataDir() + "/files").empty());
  // The chat message stays, without its file.
  json history = Ok(ws.Call("chat.history", {{"roomId", roomId_}}))["messages"];
  ASSERT_EQ(history.size(), 1u);
  EXPECT_FALSE(history[0].contains("file"));
}

TEST_F(FilesTest, OversizedUploadsAreRefusedAndLeaveNothingBehind) {
  std::string before = DumpDatabase(daemon_->dataDir() + "/atrium.db");
  Upload u;
  // Declared too large: refused from the headers, before the body is read. (libsoup's own
  // client, asked to send Expect: 100-continue, waits out its timeout on such an answer;
  // curl does not, so this sends the body straight away.)
  u.data = std::string(kMaxSize + 70 * 1024, 'a');
  HttpReply r = Send(FilesUrl(roomId_), member_.token, u);
  EXPECT_EQ(r.status, 413u) << r.body;
  EXPECT_EQ(r.Json()["error"]["code"], -32008);
  // Streamed without a length: refused once the count passes the limit.
  u.chunked = true;
  EXPECT_EQ(Send(FilesUrl(roomId_), host_.token, u).status, 413u);
  // Just over the limit: the body fits the framing allowance, the file part does not.
  u.chunked = false;
  u.data = std::string(kMaxSize + 1, 'b');
  r = Send(FilesUrl(roomId_), host_.token, u);
  EXPECT_EQ(r.status, 413u) << r.body;
  EXPECT_EQ(r.Json()["error"]["data"]["limit"], kMaxSize);

  EXPECT_TRUE(DirEntries(daemon_->dataDir() + "/files").empty());
  EXPECT_EQ(DumpDatabase(daemon_->dataDir() + "/atrium.db"), before);
  EXPECT_EQ(Ok(Call("file.list", {{"roomId", roomId_}}, host_.token))["files"].size(), 0u);

  // Exactly the limit is fine, and the server still answers.
  u.data = std::string(kMaxSize, 'c');
  EXPECT_EQ(Send(FilesUrl(roomId_), host_.token, u).status, 201u);
  EXPECT_EQ(ErrorCodeOf(Call("server.ping", json::object(), "")), 0);
}

TEST_F(FilesTest, RefusedUploads) {
  auto stored = DirEntries(daemon_->dataDir() + "/files");
  Upload u;
  u.data = "x";
  EXPECT_EQ(Send(FilesUrl(roomId_), "", u).status, 401u);
  EXPECT_EQ(Send(FilesUrl(roomId_), "not-a-token", u).status, 401u);
  EXPECT_EQ(Send(FilesUrl(roomId_), outsider_.token, u).status, 403u);
  EXPECT_EQ(Send(FilesUrl(999999), host_.token, u).status, 404u);
  Upload notMultipart = u;
  notMultipart.contentType = "application/json";
  EXPECT_EQ(Send(FilesUrl(roomId_), host_.token, notMultipart).status, 400u);
  Upload noFilePart = u;
  noFilePart.field = "attachment";
  EXPECT_EQ(Send(FilesUrl(roomId_), host_.token, noFilePart).status, 400u);
  EXPECT_EQ(Get("/rooms/" + std::to_string(roomId_) + "/files", host_.token).status, 405u);
  EXPECT_EQ(Get("/rooms/x/files/1", host_.token).status, 404u);
  EXPECT_EQ(DirEntries(daemon_->dataDir() + "/files"), stored);
  EXPECT_EQ(ErrorCodeOf(Call("file.list", {{"roomId", 999999}}, host_.token)), -32003);
  EXPECT_EQ(ErrorCodeOf(Call("file.list", {{"roomId", roomId_}}, "")), -32001);
}

}  // namespace
}  // namespace atrium::test
