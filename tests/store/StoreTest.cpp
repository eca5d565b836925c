// The SQLite store on a real file: migrations, pragmas, repositories, constraints, and
// data that survives closing and reopening.
#include "core/Error.hpp"
#include "store/Apps.hpp"
#include "store/Chat.hpp"
#include "store/Database.hpp"
#include "store/Files.hpp"
#include "store/Meetings.hpp"
#include "store/Migrations.hpp"
#include "store/Organisations.hpp"
#include "store/Recordings.hpp"
#include "store/RevokedTokens.hpp"
#include "store/Rooms.hpp"
#include "store/Transcripts.hpp"
#include "store/Users.hpp"

#include <glib.h>
#include <glib/gstdio.h>
#include <gtest/gtest.h>

#include <memory>

namespace atrium::store {
namespace {

class StoreTest : public ::testing::Test {
protected:
  void SetUp() override {
    gchar* d = g_dir_make_tmp("atrium-store-XXXXXX", nullptr);
    dir_ = d;
    g_free(d);
    db_ = std::make_unique<Database>(path());
  }
  void TearDown() override {
    db_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) g_unlink((path() + suffix).c_str());
    g_rmdir(dir_.c_str());
  }
  std::string path() const { return dir_ + "/atrium.db"; }
  void Reopen() {
    db_.reset();
    db_ = std::make_unique<Database>(path());
  }
  int64_t AddUser(const std::string& account, bool admin = false) {
    User u;
    u.account = account;
    u.name = account;
    u.passwordHash = "x";
    u.admin = admin;
    return Users(*db_).Create(u);
  }
  int64_t AddRoom(int64_t owner, bool isPublic = false) {
    Room r;
    r.name = "room";
    r.ownerId = owner;
    r.isPublic = isPublic;
    return Rooms(*db_).Create(r);
  }
  static int Code(const std::function<void()>& fn) {
    try {
      fn();
    } catch (const AppError& e) {
      return int(e.code());
    }
    return 0;
  }

  std::string dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(StoreTest, MigrationsApplyOnceAndSetTheVersion) {
  ASSERT_FALSE(Migrations().empty());
  EXPECT_EQ(db_->schemaVersion(), Migrations().back().version);
  Reopen();
  EXPECT_EQ(db_->schemaVersion(), Migrations().back().version);
  ASSERT_TRUE(Organisations(*db_).Find(1));
  EXPECT_EQ(Organisations(*db_).List().size(), 1u);  // the seed row was not inserted twice
}

TEST_F(StoreTest, PragmasForDurability) {
  auto mode = db_->prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.step());
  EXPECT_EQ(mode.text(0), "wal");
  auto fk = db_->prepare("PRAGMA foreign_keys");
  ASSERT_TRUE(fk.step());
  EXPECT_EQ(fk.int64(0), 1);
  auto sync = db_->prepare("PRAGMA synchronous");
  ASSERT_TRUE(sync.step());
  EXPECT_EQ(sync.int64(0), 2);  // FULL
}

TEST_F(StoreTest, RefusesADatabaseFromANewerAtrium) {
  db_->execScript("PRAGMA user_version = 9999");
  db_.reset();
  EXPECT_EQ(Code([&] { Database d(path()); }), int(ErrorCode::Internal));
  db_ = std::make_unique<Database>(":memory:");
}

TEST_F(StoreTest, UsersRoundTripAndUniqueAccounts) {
  int64_t id = AddUser("alice");
  auto u = Users(*db_).Find(id);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->account, "alice");
  EXPECT_EQ(Code([&] { AddUser("alice"); }), int(ErrorCode::Conflict));
  u->name = "Alice A.";
  u->email = "a@example.org";
  Users(*db_).Update(*u);
  Reopen();
  EXPECT_EQ(Users(*db_).FindByAccount("alice")->name, "Alice A.");
  EXPECT_EQ(Code([&] { Users(*db_).Delete(424242); }), int(ErrorCode::NotFound));
}

TEST_F(StoreTest, StringsAreStoredVerbatim) {
  std::string odd = std::string("a'; DROP TABLE users; --\0\"x", 27);
  User u;
  u.account = "odd";
  u.name = odd;
  u.passwordHash = "x";
  int64_t id = Users(*db_).Create(u);
  EXPECT_EQ(Users(*db_).Find(id)->name, odd);
}

TEST_F(StoreTest, UserPagingAndOrganisations) {
  int64_t org = Organisations(*db_).Create("acme");
  for (int i = 0; i < 7; ++i) {
    User u;
    u.account = "u" + std::to_string(i);
    u.passwordHash = "x";
    u.orgId = i < 3 ? org : 1;
    Users(*db_).Create(u);
  }
  auto page = Users(*db_).List(std::nullopt, {2, 3});
  EXPECT_EQ(page.total, 7);
  ASSERT_EQ(page.items.size(), 3u);
  EXPECT_EQ(page.items[0].account, "u2");
  EXPECT_EQ(Users(*db_).List(org, {0, 50}).total, 3);
  EXPECT_EQ(Code([&] { Organisations(*db_).Delete(org); }), int(ErrorCode::Conflict));
}

TEST_F(StoreTest, RoomVisibilityAndMembers) {
  int64_t alice = AddUser("alice");
  int64_t bob = AddUser("bob");
  int64_t priv = AddRoom(alice);
  int64_t pub = AddRoom(alice, true);
  EXPECT_EQ(Rooms(*db_).ListVisible(bob, {}).total, 1);
  EXPECT_EQ(Rooms(*db_).ListVisible(alice, {}).total, 2);
  Rooms(*db_).AddMember(priv, bob, "attendee");
  Rooms(*db_).AddMember(priv, bob, "host");  // upsert changes the role
  EXPECT_EQ(Rooms(*db_).MemberRole(priv, bob), "host");
  EXPECT_EQ(Rooms(*db_).ListVisible(bob, {}).total, 2);
  EXPECT_EQ(Rooms(*db_).ListVisible(std::nullopt, {}).total, 2);
  EXPECT_EQ(Code([&] { Rooms(*db_).AddMember(priv, 999, "host"); }), int(ErrorCode::Conflict));
  // Deleting the room removes its members (cascade); deleting a user keeps its rooms.
  Rooms(*db_).Delete(priv);
  EXPECT_FALSE(Rooms(*db_).MemberRole(priv, bob));
  Users(*db_).Delete(alice);
  auto r = Rooms(*db_).Find(pub);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ownerId);
}

TEST_F(StoreTest, MeetingsWithMembersCodesAndTimeRanges) {
  int64_t alice = AddUser("alice");
  int64_t bob = AddUser("bob");
  int64_t room = AddRoom(alice);
  int calls = 0;
  auto codes = [&] { return ++calls < 3 ? std::string("123456789") : std::to_string(100000000 + calls); };
  Meeting m;
  m.roomId = room;
  m.ownerId = alice;
  m.name = "standup";
  m.startTime = 1000;
  m.endTime = 2000;
  m.members = {{bob, "speaker", "", ""}};
  Meetings(*db_).Create(m, codes);
  EXPECT_EQ(m.inviteCode, "123456789");
  Meeting m2 = m;
  m2.startTime = 5000;
  m2.endTime = 6000;
  Meetings(*db_).Create(m2, codes);  // the first code is taken: retried
  EXPECT_NE(m2.inviteCode, m.inviteCode);

  auto found = Meetings(*db_).FindByCode("123456789");
  ASSERT_TRUE(found);
  ASSERT_EQ(found->members.size(), 1u);
  EXPECT_EQ(found->members[0].role, "speaker");
  EXPECT_EQ(found->members[0].account, "bob");
  EXPECT_EQ(Meetings(*db_).List(bob, 0, 1500, {}).total, 1);
  EXPECT_EQ(Meetings(*db_).List(bob, 2000, 5000, {}).total, 0);  // touching ends do not overlap
  EXPECT_EQ(Meetings(*db_).List(alice, 0, 10000, {}).total, 2);
  EXPECT_EQ(Meetings(*db_).ListByRoom(room, {0, 1}).items.size(), 1u);

  found->members.clear();
  Meetings(*db_).Update(*found, true);
  EXPECT_TRUE(Meetings(*db_).Find(found->id)->members.empty());
  EXPECT_EQ(Meetings(*db_).List(bob, 0, 10000, {}).total, 1);  // still in the second meeting
}

TEST_F(StoreTest, TransactionsRollBackOnError) {
  int64_t before = Users(*db_).List(std::nullopt, {}).total;
  EXPECT_THROW(db_->transaction([&] {
    AddUser("carol");
    AddUser("carol");  // conflict: the whole transaction goes
  }),
               AppError);
  EXPECT_EQ(Users(*db_).List(std::nullopt, {}).total, before);
}

TEST_F(StoreTest, RecordingsAppsAndRevokedTokens) {
  int64_t alice = AddUser("alice");
  int64_t room = AddRoom(alice);
  Recording r;
  r.roomId = room;
  r.name = "rec";
  r.format = "webm";
  r.layout = "tracks";
  r.fileName = "1.webm";
  r.status = "recording";
  r.startedAt = 10;
  int64_t id = Recordings(*db_).Create(r);
  Recordings(*db_).Finish(id, "finished", 1234, 5000, 15);
  auto got = Recordings(*db_).Find(id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, "finished");
  EXPECT_EQ(got->durationMs, 5000);
  EXPECT_EQ(Recordings(*db_).List(room, {}).total, 1);
  EXPECT_EQ(Code([&] {
              Recording bad = r;
              bad.format = "avi";
              Recordings(*db_).Create(bad);
            }),
            int(ErrorCode::Conflict));

  App a;
  a.appId = "app1";
  a.name = "CRM";
  a.secretHash = "h";
  Apps(*db_).Create(a);
  EXPECT_EQ(Apps(*db_).FindByAppId("app1")->name, "CRM");
  EXPECT_EQ(Code([&] { Apps(*db_).Create(a); }), int(ErrorCode::Conflict));

  RevokedTokens(*db_).Revoke("jti1", 100);
  RevokedTokens(*db_).Revoke("jti1", 100);  // idempotent
  EXPECT_TRUE(RevokedTokens(*db_).IsRevoked("jti1"));
  EXPECT_EQ(RevokedTokens(*db_).Purge(101), 1);
  EXPECT_FALSE(RevokedTokens(*db_).IsRevoked("jti1"));
}

TEST_F(StoreTest, ChatHistoryShowsPrivateMessagesToTheirPartiesOnly) {
  int64_t ada = AddUser("ada"), bob = AddUser("bob"), cy = AddUser("cy");
  int64_t room = AddRoom(ada);
  Chat chat(*db_);
  auto add = [&](std::optional<int64_t> from, const std::string& fromPid, std::optional<int64_t> to,
                 std::optional<std::string> toPid, const std::string& text, int64_t at) {
    ChatMessage m;
    m.roomId = room;
    m.senderUserId = from;
    m.senderParticipantId = fromPid;
    m.senderName = fromPid;
    m.recipientUserId = to;
    m.recipientParticipantId = toPid;
    m.content = text;
    m.createdAt = at;
    return chat.Add(m);
  };
  add(ada, "u1-1", std::nullopt, std::nullopt, "to all", 100);
  add(ada, "u1-1", bob, "u2-2", "ada to bob", 101);
  add(std::nullopt, "u3-3", ada, "u1-1", "old guest to ada", 102);
  add(ada, "u1-1", std::nullopt, "u3-3", "ada to a later guest with the same id", 200);
  auto texts = [&](ChatReader r, std::optional<int64_t> before = std::nullopt, int64_t limit = 50) {
    std::vector<std::string> v;
    for (const auto& m : chat.History(room, std::nullopt, before, limit, r)) v.push_back(m.content);
    return v;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(texts({ada, std::nullopt, 0}),
            (V{"ada to a later guest with the same id", "old guest to ada", "ada to bob", "to all"}));
  EXPECT_EQ(texts({bob, std::nullopt, 0}), (V{"ada to bob", "to all"}));
  EXPECT_EQ(texts({cy, std::nullopt, 0}), (V{"to all"}));
  // A guest matches by participant id, and only from the time it joined.
  EXPECT_EQ(texts({std::nullopt, std::string("u3-3"), 150}), (V{"ada to a later guest with the same id", "to all"}));
  EXPECT_EQ(texts({std::nullopt, std::nullopt, 0}, std::nullopt, 1), (V{"to all"}));
  EXPECT_EQ(texts({ada, std::nullopt, 0}, 3, 1), (V{"ada to bob"}));

  // Deleting a file keeps the message; deleting the room takes both.
  Files files(*db_);
  MeetingFile f;
  f.roomId = room;
  f.uploadedBy = bob;
  f.name = "a.txt";
  f.contentType = "text/plain";
  f.sizeBytes = 1;
  int64_t fileId = files.Create(f);
  ChatMessage m;
  m.roomId = room;
  m.senderParticipantId = "u2-2";
  m.senderName = "bob";
  m.fileId = fileId;
  chat.Add(m);
  EXPECT_EQ(files.List(room).size(), 1u);
  files.Delete(fileId);
  EXPECT_EQ(Code([&] { files.Delete(fileId); }), int(ErrorCode::NotFound));
  EXPECT_FALSE(chat.History(room, std::nullopt, std::nullopt, 1, {bob, std::nullopt, 0})[0].fileId.has_value());
  Rooms(*db_).Delete(room);
  EXPECT_TRUE(chat.History(room, std::nullopt, std::nullopt, 50, {ada, std::nullopt, 0}).empty());
  EXPECT_EQ(Files::PathOf("/d", 7), "/d/files/7");
}

TEST_F(StoreTest, TranscriptsListInSpeechOrderPerMeetingAndGoWithTheRoom) {
  int64_t ada = AddUser("ada");
  int64_t room = AddRoom(ada);
  Meeting m;
  m.roomId = room;
  m.name = "standup";
  m.startTime = 1000;
  m.endTime = 2000;
  Meetings(*db_).Create(m, [] { return std::string("555000111"); });
  Transcripts transcripts(*db_);
  auto add = [&](std::optional<int64_t> meeting, std::optional<int64_t> user, const std::string& text,
                 int64_t startMs) {
    TranscriptSegment t;
    t.roomId = room;
    t.meetingId = meeting;
    t.participantId = user ? "u1-1" : "u2-2";
    t.participantName = user ? "Ada" : "guest";
    t.userId = user;
    t.streamId = "s1-1";
    t.segmentId = 1;
    t.text = text;
    t.startMs = startMs;
    t.endMs = startMs + 900;
    t.createdAt = 77;
    return transcripts.Add(t);
  };
  add(m.id, ada, "second", 2000);
  add(m.id, std::nullopt, "first", 1000);  // recognised later, spoken earlier
  add(std::nullopt, ada, "no meeting", 1500);
  auto texts = [&](std::optional<int64_t> meeting, Page page = {}) {
    std::vector<std::string> v;
    for (const auto& t : transcripts.List(room, meeting, page).items) v.push_back(t.text);
    return v;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(texts(std::nullopt), (V{"first", "no meeting", "second"}));
  EXPECT_EQ(texts(m.id), (V{"first", "second"}));
  EXPECT_EQ(texts(std::nullopt, {1, 1}), (V{"no meeting"}));
  auto page = transcripts.List(room, m.id, {0, 1});
  EXPECT_EQ(page.total, 2);
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].participantName, "guest");
  EXPECT_FALSE(page.items[0].userId);
  EXPECT_EQ(page.items[0].endMs, 1900);
  EXPECT_EQ(page.items[0].createdAt, 77);
  Reopen();
  Rooms(*db_).Delete(room);
  EXPECT_EQ(Transcripts(*db_).List(room, std::nullopt, {}).total, 0);
}

}  // namespace
}  // namespace atrium::store
