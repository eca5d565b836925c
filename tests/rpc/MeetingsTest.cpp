// meeting.* against a real atriumd: scheduled and instant meetings, their rooms, members,
// topics, PINs and invite codes, who may see and manage them, time-range listing and
// paging, and the public invite-code lookup.
#include "tests/rpc/DaemonSuite.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>

namespace atrium::test {
namespace {

constexpr int64_t kMaxTime = 253402300799;  // 9999-12-31

std::vector<int64_t> IdsOf(const json& meetings) {
  std::vector<int64_t> ids;
  for (const auto& m : meetings) ids.push_back(m["meetingId"]);
  return ids;
}

class MeetingsTest : public DaemonSuite {
protected:
  // A plain user named after its prefix, with a minted token.
  static User AddUser(const std::string& prefix) { return DaemonSuite::AddUser(prefix, {{"name", prefix}}); }
  // A meeting an hour from now, for an hour.
  static json Create(const User& owner, json params = json::object()) {
    if (!params.contains("name")) params["name"] = Unique("meeting");
    if (!params.contains("startTime")) params["startTime"] = Now() + 3600;
    if (!params.contains("endTime")) params["endTime"] = params["startTime"].get<int64_t>() + 3600;
    return Ok(Call("meeting.create", params, owner.token));
  }
  static json Get(int64_t meetingId) { return Ok(AdminCall("meeting.get", {{"meetingId", meetingId}}))["meeting"]; }
  static int64_t TotalMeetings() { return Ok(AdminCall("meeting.list", {{"all", true}, {"limit", 1}}))["total"]; }
  static int64_t TotalRooms() { return Ok(AdminCall("room.list", {{"limit", 1}}))["total"]; }
};

// ---------------------------------------------------------------- meeting.create

TEST_F(MeetingsTest, CreateMakesARoomMembersTopicsAndAnInviteCode) {
  User owner = AddUser("owner");
  User bob = AddUser("bob");
  User carol = AddUser("carol");
  int64_t start = Now() + 3600;
  int64_t before = Now();
  json r = Ok(Call("meeting.create",
                   {{"name", "Planning"},
                    {"description", "Next quarter"},
                    {"startTime", start},
                    {"endTime", start + 1800},
                    {"type", 1},
                    {"definition", "480p"},
                    {"mode", "mcu"},
                    {"numberLimit", 8},
                    {"topics", {"Q1 goals", "Budget"}},
                    {"members", {{{"userId", carol.id}}, {{"userId", bob.id}, {"role", "speaker"}}}}},
                   owner.token));
  ASSERT_TRUE(r["meetingId"].is_number_integer());
  std::string code = r["inviteCode"];
  EXPECT_TRUE(std::regex_match(code, std::regex("[0-9]{9}"))) << code;
  json m = r["meeting"];
  EXPECT_EQ(m["meetingId"], r["meetingId"]);
  EXPECT_EQ(m["roomId"], r["roomId"]);
  EXPECT_EQ(m["inviteCode"], code);
  EXPECT_EQ(m["ownerId"], owner.id);
  EXPECT_EQ(m["name"], "Planning");
  EXPECT_EQ(m["description"], "Next quarter");
  EXPECT_EQ(m["type"], 1);
  EXPECT_EQ(m["definition"], "480p");
  EXPECT_EQ(m["startTime"], start);
  EXPECT_EQ(m["endTime"], start + 1800);
  EXPECT_EQ(m["hasPin"], false);
  EXPECT_EQ(m["topics"], json::array({"Q1 goals", "Budget"}));
  EXPECT_EQ(m["instant"], false);
  EXPECT_EQ(m["status"], "notStarted");
  EXPECT_EQ(m["live"], false);
  EXPECT_GE(m["createdAt"].get<int64_t>(), before);
  // Members ordered by userId, with their roles (attendee by default).
  std::vector<json> expected = {{{"userId", bob.id}, {"account", bob.account}, {"name", "bob"}, {"role", "speaker"}},
                                {{"userId", carol.id}, {"account", carol.account}, {"name", "carol"}, {"role", "attendee"}}};
  if (carol.id < bob.id) std::swap(expected[0], expected[1]);
  EXPECT_EQ(m["members"], json(expected));
  EXPECT_EQ(Get(r["meetingId"]), m);

  // The meeting's own room: private, the caller's, with the meeting's settings and members.
  json room = Ok(Call("room.get", {{"roomId", r["roomId"]}}, owner.token))["room"];
  EXPECT_EQ(room["name"], "Planning");
  EXPECT_EQ(room["ownerId"], owner.id);
  EXPECT_EQ(room["isPublic"], false);
  EXPECT_EQ(room["type"], 1);
  EXPECT_EQ(room["definition"], "480p");
  EXPECT_EQ(room["mode"], "mcu");
  EXPECT_EQ(room["numberLimit"], 8);
  json roomMembers = Ok(Call("room.members.list", {{"roomId", r["roomId"]}}, owner.token))["members"];
  ASSERT_EQ(roomMembers.size(), 2u);
  for (const auto& rm : roomMembers) EXPECT_EQ(rm["role"], rm["userId"] == bob.id ? "speaker" : "attendee");
}

TEST_F(MeetingsTest, CreateInAnExistingRoomWithAPin) {
  User owner = AddUser("owner");
  User host = AddUser("host");
  int64_t roomId = Ok(Call("room.create", {{"name", "Weekly"}}, owner.token))["roomId"];
  Ok(Call("room.members.add", {{"roomId", roomId}, {"userId", host.id}, {"role", "host"}}, owner.token));
  int64_t rooms = TotalRooms();
  json r = Create(owner, {{"roomId", roomId}, {"pin", "2468"}, {"mode", "ignored"}});
  EXPECT_EQ(r["roomId"], roomId);
  EXPECT_EQ(r["meeting"]["roomId"], roomId);
  EXPECT_EQ(r["meeting"]["hasPin"], true);
  EXPECT_EQ(r["meeting"].dump().find("2468"), std::string::npos);
  EXPECT_EQ(r["meeting"]["topics"], json::array());
  EXPECT_EQ(r["meeting"]["members"], json::array());
  EXPECT_EQ(TotalRooms(), rooms);  // no new room
  // A host of the room may create meetings in it too; its meetings get distinct codes.
  json byHost = Create(host, {{"roomId", roomId}, {"pin", ""}});
  EXPECT_EQ(byHost["meeting"]["hasPin"], false);
  EXPECT_EQ(byHost["meeting"]["ownerId"], host.id);
  EXPECT_NE(byHost["inviteCode"], r["inviteCode"]);
}

TEST_F(MeetingsTest, CreateRefusesBadParams) {
  User owner = AddUser("owner");
  User bob = AddUser("bob");
  int64_t t = Now() + 3600;
  auto with = [&](json extra) {
    json p = {{"name", "m"}, {"startTime", t}, {"endTime", t + 60}};
    for (auto it = extra.begin(); it != extra.end(); ++it) {
      if (it.value().is_string() && it.value() == "<absent>")
        p.erase(it.key());
      else
        p[it.key()] = it.value();
    }
    return p;
  };
  struct Case {
    const char* name;
    json params;
    const char* param;
  } cases[] = {
      {"NoName", with({{"name", "<absent>"}}), "name"},
      {"NameEmpty", with({{"name", ""}}), "name"},
      {"NameTooLong", with({{"name", std::string(129, 'n')}}), "name"},
      {"NoStartTime", with({{"startTime", "<absent>"}}), "startTime"},
      {"NoEndTime", with({{"endTime", "<absent>"}}), "endTime"},
      {"StartTimeString", with({{"startTime", "tomorrow"}}), "startTime"},
      {"StartTimeNegative", with({{"startTime", -1}}), "startTime"},
      {"EndTimeTooLate", with({{"endTime", kMaxTime + 1}}), "endTime"},
      {"EndEqualsStart", with({{"endTime", t}}), "endTime"},
      {"EndBeforeStart", with({{"endTime", t - 60}}), "endTime"},
      {"Type4", with({{"type", 4}}), "type"},
      {"TypeString", with({{"type", "1"}}), "type"},
      {"Definition4k", with({{"definition", "4k"}}), "definition"},
      {"DescriptionNumber", with({{"description", 7}}), "description"},
      {"PinNumber", with({{"pin", 2468}}), "pin"},
      {"PinTooLong", with({{"pin", std::string(65, '1')}}), "pin"},
      {"TopicsString", with({{"topics", "Q1"}}), "topics"},
      {"TopicsNumbers", with({{"topics", {1, 2}}}), "topics"},
      {"TopicTooLong", with({{"topics", {std::string(513, 't')}}}), "topics"},
      {"TooManyTopics", with({{"topics", std::vector<std::string>(101, "t")}}), "topics"},
      {"MembersObject", with({{"members", {{"userId", 1}}}}), "members"},
      {"MembersNumbers", with({{"members", {1, 2}}}), "members"},
      {"MemberWithoutUserId", with({{"members", {{{"role", "host"}}}}}), "userId"},
      {"MemberBadRole", with({{"members", {{{"userId", bob.id}, {"role", "boss"}}}}}), "role"},
      {"RoomIdString", with({{"roomId", "1"}}), "roomId"},
      {"ModeUnknown", with({{"mode", "p2p"}}), "mode"},
      {"NumberLimit0", with({{"numberLimit", 0}}), "numberLimit"},
      {"NumberLimit1001", with({{"numberLimit", 1001}}), "numberLimit"},
  };
  int64_t meetings = TotalMeetings();
  int64_t rooms = TotalRooms();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    json r = Call("meeting.create", c.params, owner.token);
    EXPECT_EQ(ErrorCodeOf(r), -32602) << r.dump();
    EXPECT_EQ(ParamOf(r), c.param) << r.dump();
  }
  EXPECT_EQ(ErrorCodeOf(Call("meeting.create", with({}), "")), -32001);
  EXPECT_EQ(TotalMeetings(), meetings);
  EXPECT_EQ(TotalRooms(), rooms);
}

TEST_F(MeetingsTest, CreateRefusesUnknownMembersAndOtherPeoplesRooms) {
  User owner = AddUser("owner");
  User other = AddUser("other");
  User attendee = AddUser("attendee");
  int64_t othersRoom = Ok(Call("room.create", {{"name", "not yours"}, {"isPublic", true}}, other.token))["roomId"];
  Ok(Call("room.members.add", {{"roomId", othersRoom}, {"userId", attendee.id}}, other.token));
  int64_t t = Now() + 3600;
  json base = {{"name", "m"}, {"startTime", t}, {"endTime", t + 60}};
  int64_t meetings = TotalMeetings();
  int64_t rooms = TotalRooms();

  json p = base;
  p["members"] = {{{"userId", other.id}}, {{"userId", 999999}}};
  json unknownMember = Call("meeting.create", p, owner.token);
  EXPECT_EQ(ErrorCodeOf(unknownMember), -32003);
  EXPECT_EQ(unknownMember["error"]["data"]["userId"], 999999);

  for (const User* u : {&owner, &attendee}) {  // a stranger, and a plain member of the room
    SCOPED_TRACE(u->account);
    p = base;
    p["roomId"] = othersRoom;
    json denied = Call("meeting.create", p, u->token);
    EXPECT_EQ(ErrorCodeOf(denied), -32002) << denied.dump();
    EXPECT_EQ(denied["error"]["data"]["roomId"], othersRoom);
  }
  p = base;
  p["roomId"] = 999999;
  json unknownRoom = Call("meeting.create", p, owner.token);
  EXPECT_EQ(ErrorCodeOf(unknownRoom), -32003);
  EXPECT_EQ(unknownRoom["error"]["data"]["roomId"], 999999);

  EXPECT_EQ(TotalMeetings(), meetings);
  EXPECT_EQ(TotalRooms(), rooms);
  EXPECT_EQ(Ok(AdminCall("meeting.listByRoom", {{"roomId", othersRoom}}))["total"], 0);
}

// ---------------------------------------------------------------- meeting.instant

TEST_F(MeetingsTest, InstantMeetingsStartNow) {
  User owner = AddUser("owner");
  int64_t before = Now();
  json r = Ok(Call("meeting.instant", json::object(), owner.token));
  json m = r["meeting"];
  EXPECT_EQ(m["status"], "started");
  EXPECT_EQ(m["instant"], true);
  EXPECT_EQ(m["name"], "Instant meeting");
  EXPECT_GE(m["startTime"].get<int64_t>(), before);
  EXPECT_LE(m["startTime"].get<int64_t>(), Now());
  EXPECT_EQ(m["endTime"].get<int64_t>(), m["startTime"].get<int64_t>() + 3600);
  EXPECT_EQ(m["live"], false);
  EXPECT_TRUE(std::regex_match(r["inviteCode"].get<std::string>(), std::regex("[0-9]{9}")));
  EXPECT_EQ(Ok(Call("meeting.byCode", {{"code", r["inviteCode"]}}, ""))["status"], "started");
  EXPECT_EQ(Ok(Call("room.get", {{"roomId", r["roomId"]}}, owner.token))["room"]["name"], "Instant meeting");

  // A name and a duration; startTime/endTime are checked but ignored.
  json named = Ok(Call("meeting.instant", {{"name", "Fire drill"}, {"duration", 1800}, {"startTime", 5}, {"endTime", 6}},
                       owner.token))["meeting"];
  EXPECT_EQ(named["name"], "Fire drill");
  EXPECT_EQ(named["endTime"].get<int64_t>() - named["startTime"].get<int64_t>(), 1800);
  EXPECT_EQ(named["status"], "started");

  for (json params : {json{{"duration", 59}}, json{{"duration", 7 * 86400 + 1}}, json{{"duration", "60"}},
                      json{{"name", ""}}, json{{"startTime", "now"}}, json{{"type", 0}}}) {
    SCOPED_TRACE(params.dump());
    json e = Call("meeting.instant", params, owner.token);
    EXPECT_EQ(ErrorCodeOf(e), -32602) << e.dump();
    EXPECT_EQ(ParamOf(e), params.begin().key());
  }
  EXPECT_EQ(ErrorCodeOf(Call("meeting.instant", json::object(), "")), -32001);
}

// ---------------------------------------------------------------- meeting.get

TEST_F(MeetingsTest, GetIsForOwnerMembersRoomHostsAndAdministrators) {
  User owner = AddUser("owner");
  User member = AddUser("member");
  User stranger = AddUser("stranger");
  User host = AddUser("host");
  User roomAttendee = AddUser("roomattendee");
  int64_t roomId = Ok(Call("room.create", {{"name", "r"}}, owner.token))["roomId"];
  Ok(Call("room.members.add", {{"roomId", roomId}, {"userId", host.id}, {"role", "host"}}, owner.token));
  Ok(Call("room.members.add", {{"roomId", roomId}, {"userId", roomAttendee.id}}, owner.token));
  json r = Create(owner, {{"roomId", roomId}, {"members", {{{"userId", member.id}}}}});
  int64_t id = r["meetingId"];

  for (const std::string* token : {&owner.token, &member.token, &host.token, admin_}) {
    json m = Ok(Call("meeting.get", {{"meetingId", id}}, *token))["meeting"];
    EXPECT_EQ(m, r["meeting"]);
  }
  for (const User* u : {&stranger, &roomAttendee}) {
    SCOPED_TRACE(u->account);
    json denied = Call("meeting.get", {{"meetingId", id}}, u->token);
    EXPECT_EQ(ErrorCodeOf(denied), -32002) << denied.dump();
    EXPECT_FALSE(denied.contains("result"));
  }
  json unknown = Call("meeting.get", {{"meetingId", 999999}}, owner.token);
  EXPECT_EQ(ErrorCodeOf(unknown), -32003);
  EXPECT_EQ(unknown["error"]["data"]["meetingId"], 999999);
  EXPECT_EQ(ParamOf(Call("meeting.get", json::object(), owner.token)), "meetingId");
  EXPECT_EQ(ParamOf(Call("meeting.get", {{"meetingId", std::to_string(id)}}, owner.token)), "meetingId");
  EXPECT_EQ(ParamOf(Call("meeting.get", {{"meetingId", 0}}, owner.token)), "meetingId");
  EXPECT_EQ(ErrorCodeOf(Call("meeting.get", {{"meetingId", id}}, "")), -32001);
}

// ---------------------------------------------------------------- meeting.update

TEST_F(MeetingsTest, UpdateChangesFieldsAndReplacesMembers) {
  User owner = AddUser("owner");
  User bob = AddUser("bob");
  User carol = AddUser("carol");
  json r = Create(owner, {{"topics", {"old"}}, {"members", {{{"userId", bob.id}}}}, {"description", "keep"}});
  int64_t id = r["meetingId"];
  int64_t roomId = r["roomId"];
  int64_t start = Now() + 7200;
  json m = Ok(Call("meeting.update",
                   {{"meetingId", id},
                    {"name", "Renamed"},
                    {"type", 3},
                    {"definition", "1080p"},
                    {"startTime", start},
                    {"endTime", start + 600},
                    {"pin", "1357"},
                    {"topics", {"new", "newer"}},
                    {"members", {{{"userId", carol.id}, {"role", "host"}}}},
                    {"roomId", 1}},
                   owner.token))["meeting"];
  EXPECT_EQ(m["name"], "Renamed");
  EXPECT_EQ(m["description"], "keep");
  EXPECT_EQ(m["type"], 3);
  EXPECT_EQ(m["definition"], "1080p");
  EXPECT_EQ(m["startTime"], start);
  EXPECT_EQ(m["endTime"], start + 600);
  EXPECT_EQ(m["hasPin"], true);
  EXPECT_EQ(m["topics"], json::array({"new", "newer"}));
  ASSERT_EQ(m["members"].size(), 1u);
  EXPECT_EQ(m["members"][0]["userId"], carol.id);
  EXPECT_EQ(m["members"][0]["role"], "host");
  EXPECT_EQ(m["roomId"], roomId);  // the room cannot change
  EXPECT_EQ(m["inviteCode"], r["inviteCode"]);
  EXPECT_GE(m["updatedAt"].get<int64_t>(), r["meeting"]["updatedAt"].get<int64_t>());
  EXPECT_EQ(Get(id), m);
  // bob is no member any more; carol is.
  EXPECT_EQ(ErrorCodeOf(Call("meeting.get", {{"meetingId", id}}, bob.token)), -32002);
  EXPECT_EQ(ErrorCodeOf(Call("meeting.get", {{"meetingId", id}}, carol.token)), 0);
  // The room's members are not changed by the meeting's.
  json roomMembers = Ok(Call("room.members.list", {{"roomId", roomId}}, owner.token))["members"];
  ASSERT_EQ(roomMembers.size(), 1u);
  EXPECT_EQ(roomMembers[0]["userId"], bob.id);

  // Absent fields keep their value; "" clears the PIN; [] clears the members.
  json same = Ok(Call("meeting.update", {{"meetingId", id}}, owner.token))["meeting"];
  EXPECT_EQ(same["members"], m["members"]);
  EXPECT_EQ(same["topics"], m["topics"]);
  EXPECT_EQ(same["hasPin"], true);
  json cleared = Ok(Call("meeting.update", {{"meetingId", id}, {"pin", ""}, {"members", json::array()}, {"topics", json::array()}},
                         owner.token))["meeting"];
  EXPECT_EQ(cleared["hasPin"], false);
  EXPECT_EQ(cleared["members"], json::array());
  EXPECT_EQ(cleared["topics"], json::array());
  // Moving only the end before the (kept) start is refused.
  json early = Call("meeting.update", {{"meetingId", id}, {"endTime", start - 1}}, owner.token);
  EXPECT_EQ(ErrorCodeOf(early), -32602);
  EXPECT_EQ(ParamOf(early), "endTime");
  EXPECT_EQ(Get(id)["endTime"], start + 600);
}

TEST_F(MeetingsTest, UpdateRefusals) {
  User owner = AddUser("owner");
  User member = AddUser("member");
  User stranger = AddUser("stranger");
  json r = Create(owner, {{"name", "Fixed"}, {"members", {{{"userId", member.id}, {"role", "host"}}}}});
  int64_t id = r["meetingId"];
  EXPECT_EQ(ErrorCodeOf(Call("meeting.update", {{"meetingId", id}, {"name", "Hijacked"}}, stranger.token)), -32002);
  EXPECT_EQ(Get(id)["name"], "Fixed");

  struct Case {
    const char* name;
    json params;
    const char* param;
  } cases[] = {
      {"NoMeetingId", {{"name", "x"}}, "meetingId"},
      {"NameEmpty", {{"meetingId", id}, {"name", ""}}, "name"},
      {"Type0", {{"meetingId", id}, {"type", 0}}, "type"},
      {"Definition4k", {{"meetingId", id}, {"definition", "4k"}}, "definition"},
      {"StartAfterEnd", {{"meetingId", id}, {"startTime", kMaxTime}}, "endTime"},
      {"StartTimeString", {{"meetingId", id}, {"startTime", "soon"}}, "startTime"},
      {"TopicsNumbers", {{"meetingId", id}, {"topics", {1}}}, "topics"},
      {"MembersBadRole", {{"meetingId", id}, {"members", {{{"userId", member.id}, {"role", "chair"}}}}}, "role"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    json e = Call("meeting.update", c.params, owner.token);
    EXPECT_EQ(ErrorCodeOf(e), -32602) << e.dump();
    EXPECT_EQ(ParamOf(e), c.param);
  }
  json unknownMember = Call("meeting.update", {{"meetingId", id}, {"members", {{{"userId", 999999}}}}}, owner.token);
  EXPECT_EQ(ErrorCodeOf(unknownMember), -32003);
  EXPECT_EQ(unknownMember["error"]["data"]["userId"], 999999);
  json unknown = Call("meeting.update", {{"meetingId", 999999}, {"name", "x"}}, owner.token);
  EXPECT_EQ(ErrorCodeOf(unknown), -32003);
  EXPECT_EQ(unknown["error"]["data"]["meetingId"], 999999);
  EXPECT_EQ(Get(id), r["meeting"]);  // nothing changed
}

TEST_F(MeetingsTest, ManagingIsForOwnerRoomHostsAndAdministrators) {
  User owner = AddUser("owner");
  User roomOwner = AddUser("roomowner");
  User host = AddUser("host");
  User attendee = AddUser("attendee");
  int64_t roomId = Ok(Call("room.create", {{"name", "shared"}}, roomOwner.token))["roomId"];
  Ok(Call("room.members.add", {{"roomId", roomId}, {"userId", owner.id}, {"role", "host"}}, roomOwner.token));
  Ok(Call("room.members.add", {{"roomId", roomId}, {"userId", host.id}, {"role", "host"}}, roomOwner.token));
  Ok(Call("room.members.add", {{"roomId", roomId}, {"userId", attendee.id}}, roomOwner.token));
  int64_t id = Create(owner, {{"roomId", roomId}, {"members", {{{"userId", attendee.id}, {"role", "speaker"}}}}})["meetingId"];

  // A meeting member who only attends the room sees the meeting but may not change it.
  EXPECT_EQ(ErrorCodeOf(Call("meeting.get", {{"meetingId", id}}, attendee.token)), 0);
  EXPECT_EQ(ErrorCodeOf(Call("meeting.update", {{"meetingId", id}, {"name", "x"}}, attendee.token)), -32002);
  EXPECT_EQ(ErrorCodeOf(Call("meeting.delete", {{"meetingId", id}}, attendee.token)), -32002);
  // The room's owner and hosts, and administrators, may.
  EXPECT_EQ(Ok(Call("meeting.update", {{"meetingId", id}, {"name", "by room owner"}}, roomOwner.token))["meeting"]["name"],
            "by room owner");
  EXPECT_EQ(Ok(Call("meeting.update", {{"meetingId", id}, {"name", "by host"}}, host.token))["meeting"]["name"], "by host");
  EXPECT_EQ(Ok(AdminCall("meeting.update", {{"meetingId", id}, {"name", "by admin"}}))["meeting"]["name"], "by admin");
  EXPECT_EQ(Get(id)["ownerId"], owner.id);
  EXPECT_EQ(ErrorCodeOf(Call("meeting.delete", {{"meetingId", id}}, host.token)), 0);
  EXPECT_EQ(ErrorCodeOf(AdminCall("meeting.get", {{"meetingId", id}})), -32003);
}

// ---------------------------------------------------------------- meeting.delete

TEST_F(MeetingsTest, DeleteRemovesTheMeetingButNotItsRoom) {
  User owner = AddUser("owner");
  User member = AddUser("member");
  User stranger = AddUser("stranger");
  json r = Create(owner, {{"members", {{{"userId", member.id}}}}});
  int64_t id = r["meetingId"];
  EXPECT_EQ(ErrorCodeOf(Call("meeting.delete", {{"meetingId", id}}, stranger.token)), -32002);
  EXPECT_EQ(ErrorCodeOf(Call("meeting.delete", {{"meetingId", id}}, member.token)), -32002);
  EXPECT_EQ(ErrorCodeOf(Call("meeting.get", {{"meetingId", id}}, owner.token)), 0);

  EXPECT_EQ(Ok(Call("meeting.delete", {{"meetingId", id}}, owner.token)), json::object());
  json gone = Call("meeting.get", {{"meetingId", id}}, owner.token);
  EXPECT_EQ(ErrorCodeOf(gone), -32003);
  EXPECT_EQ(gone["error"]["data"]["meetingId"], id);
  EXPECT_EQ(Ok(Call("meeting.byCode", {{"code", r["inviteCode"]}}, "")), (json{{"status", "notFound"}}));
  EXPECT_FALSE(Contains(IdsOf(Ok(Call("meeting.list", json::object(), member.token))["meetings"]), id));
  EXPECT_EQ(ErrorCodeOf(Call("room.get", {{"roomId", r["roomId"]}}, owner.token)), 0);  // the room stays
  EXPECT_EQ(ErrorCodeOf(Call("meeting.delete", {{"meetingId", id}}, owner.token)), -32003);
  EXPECT_EQ(ParamOf(Call("meeting.delete", json::object(), owner.token)), "meetingId");
  EXPECT_EQ(ParamOf(Call("meeting.delete", {{"meetingId", "1"}}, owner.token)), "meetingId");
  EXPECT_EQ(ErrorCodeOf(Call("meeting.delete", {{"meetingId", 1}}, "")), -32001);
}

// ---------------------------------------------------------------- meeting.list

TEST_F(MeetingsTest, ListByTimeRangeUsesOverlap) {
  User owner = AddUser("owner");
  // [1000, 2000), [2000, 3000), [5000, 6000): far in the past, and the owner's only meetings.
  int64_t a = Create(owner, {{"startTime", 1000}, {"endTime", 2000}})["meetingId"];
  int64_t b = Create(owner, {{"startTime", 2000}, {"endTime", 3000}})["meetingId"];
  int64_t c = Create(owner, {{"startTime", 5000}, {"endTime", 6000}})["meetingId"];
  auto list = [&](json params) { return IdsOf(Ok(Call("meeting.list", params, owner.token))["meetings"]); };
  using V = std::vector<int64_t>;
  EXPECT_EQ(list(json::object()), (V{a, b, c}));  // ordered by startTime
  EXPECT_EQ(list({{"from", 2000}, {"to", 3000}}), (V{b}));
  EXPECT_EQ(list({{"from", 1999}, {"to", 2001}}), (V{a, b}));
  EXPECT_EQ(list({{"from", 0}, {"to", 1000}}), V{});      // ends where a starts
  EXPECT_EQ(list({{"from", 0}, {"to", 1001}}), (V{a}));
  EXPECT_EQ(list({{"from", 3000}, {"to", 5000}}), V{});   // between b and c
  EXPECT_EQ(list({{"from", 5999}}), (V{c}));
  EXPECT_EQ(list({{"to", 2500}}), (V{a, b}));
  EXPECT_EQ(list({{"from", 6000}}), V{});
  json r = Ok(Call("meeting.list", {{"from", 1500}, {"to", 5500}}, owner.token));
  EXPECT_EQ(r["total"], 3);
  for (const auto& m : r["meetings"]) EXPECT_EQ(m["status"], "ended");

  struct Case {
    const char* name;
    json params;
    const char* param;
  } cases[] = {
      {"ToEqualsFrom", {{"from", 2000}, {"to", 2000}}, "to"},
      {"ToBeforeFrom", {{"from", 3000}, {"to", 2000}}, "to"},
      {"FromNegative", {{"from", -1}}, "from"},
      {"ToTooLate", {{"to", kMaxTime + 1}}, "to"},
      {"FromString", {{"from", "2000"}}, "from"},
      {"LimitZero", {{"limit", 0}}, "limit"},
      {"Limit501", {{"limit", 501}}, "limit"},
      {"OffsetNegative", {{"offset", -1}}, "offset"},
  };
  for (const auto& cs : cases) {
    SCOPED_TRACE(cs.name);
    json e = Call("meeting.list", cs.params, owner.token);
    EXPECT_EQ(ErrorCodeOf(e), -32602) << e.dump();
    EXPECT_EQ(ParamOf(e), cs.param);
  }
  EXPECT_EQ(ErrorCodeOf(Call("meeting.list", json::object(), "")), -32001);
  json allString = AdminCall("meeting.list", {{"all", "true"}});
  EXPECT_EQ(ErrorCodeOf(allString), -32602);
  EXPECT_EQ(ParamOf(allString), "all");
}

// Regression: meeting.list checks the type of `all` only for administrators:
// src/rpc/methods/MeetingMethods.cpp:173 evaluates c.params.optBoolean("all") after
// `grants.admin &&`, so for any other caller {"all": "true"} (or 5, or {}) is accepted
// silently instead of -32602 param "all" (every other ill-typed param is refused for
// everyone).
TEST_F(MeetingsTest, ListRefusesAnIllTypedAllForEveryone) {
  User owner = AddUser("owner");
  json e = Call("meeting.list", {{"all", "true"}}, owner.token);
  EXPECT_EQ(ErrorCodeOf(e), -32602) << e.dump();
  EXPECT_EQ(ParamOf(e), "all");
}

TEST_F(MeetingsTest, ListPages) {
  User owner = AddUser("owner");
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(Create(owner, {{"startTime", 10000 + i * 100}, {"endTime", 10050 + i * 100}})["meetingId"]);
  std::vector<int64_t> paged;
  for (int offset : {0, 2, 4}) {
    json page = Ok(Call("meeting.list", {{"offset", offset}, {"limit", 2}}, owner.token));
    EXPECT_EQ(page["total"], 5);
    EXPECT_EQ(page["offset"], offset);
    EXPECT_EQ(page["limit"], 2);
    EXPECT_EQ(page["meetings"].size(), offset == 4 ? 1u : 2u);
    for (int64_t id : IdsOf(page["meetings"])) paged.push_back(id);
  }
  EXPECT_EQ(paged, ids);
  json past = Ok(Call("meeting.list", {{"offset", 5}}, owner.token));
  EXPECT_EQ(past["meetings"], json::array());
  EXPECT_EQ(past["total"], 5);
  json deflt = Ok(Call("meeting.list", json::object(), owner.token));
  EXPECT_EQ(deflt["offset"], 0);
  EXPECT_EQ(deflt["limit"], 50);
}

TEST_F(MeetingsTest, ListShowsOwnedAndMemberMeetingsAndAllToAdministrators) {
  User owner = AddUser("owner");
  User member = AddUser("member");
  User stranger = AddUser("stranger");
  User roomHost = AddUser("roomhost");
  int64_t mine = Create(owner, {{"members", {{{"userId", member.id}}}}})["meetingId"];
  int64_t alone = Create(owner)["meetingId"];
  int64_t roomId = Ok(Call("room.create", {{"name", "r"}}, owner.token))["roomId"];
  Ok(Call("room.members.add", {{"roomId", roomId}, {"userId", roomHost.id}, {"role", "host"}}, owner.token));
  int64_t inHostedRoom = Create(owner, {{"roomId", roomId}})["meetingId"];
  int64_t strangers = Create(stranger)["meetingId"];

  auto ids = [&](const std::string& token, json params = json::object()) {
    return IdsOf(Ok(Call("meeting.list", params, token))["meetings"]);
  };
  auto ownerIds = ids(owner.token);
  EXPECT_TRUE(Contains(ownerIds, mine) && Contains(ownerIds, alone) && Contains(ownerIds, inHostedRoom));
  EXPECT_FALSE(Contains(ownerIds, strangers));
  EXPECT_EQ(ids(member.token), std::vector<int64_t>{mine});
  EXPECT_EQ(ids(stranger.token), std::vector<int64_t>{strangers});
  // Listing is by ownership and membership, not by room rights.
  EXPECT_EQ(ids(roomHost.token), std::vector<int64_t>{});
  // all is ignored for others.
  EXPECT_EQ(ids(stranger.token, {{"all", true}}), std::vector<int64_t>{strangers});

  // Administrators: their own by default, every meeting with all.
  auto adminOwn = ids(*admin_, {{"limit", 500}});
  EXPECT_FALSE(Contains(adminOwn, strangers));
  json all = Ok(AdminCall("meeting.list", {{"all", true}, {"limit", 500}}));
  auto allIds = IdsOf(all["meetings"]);
  for (int64_t id : {mine, alone, inHostedRoom, strangers}) EXPECT_TRUE(Contains(allIds, id)) << id;
  EXPECT_EQ(all["total"], allIds.size());
}

// ---------------------------------------------------------------- meeting.byCode

TEST_F(MeetingsTest, ByCodeNeedsNoTokenAndTellsTheStatus) {
  User owner = AddUser("owner");
  json future = Create(owner, {{"name", "Future"}, {"pin", "9999"}});
  json past = Create(owner, {{"name", "Past"}, {"startTime", Now() - 7200}, {"endTime", Now() - 3600}});
  json now = Ok(Call("meeting.instant", {{"name", "Now"}}, owner.token));

  json f = Ok(Call("meeting.byCode", {{"code", future["inviteCode"]}}, ""));
  EXPECT_EQ(f["status"], "notStarted");
  EXPECT_EQ(f["meeting"], (json{{"meetingId", future["meetingId"]},
                                {"roomId", future["roomId"]},
                                {"name", "Future"},
                                {"startTime", future["meeting"]["startTime"]},
                                {"endTime", future["meeting"]["endTime"]},
                                {"hasPin", true},
                                {"live", false}}));
  json p = Ok(Call("meeting.byCode", {{"code", past["inviteCode"]}}, ""));
  EXPECT_EQ(p["status"], "ended");
  EXPECT_EQ(p["meeting"]["name"], "Past");
  EXPECT_EQ(Get(past["meetingId"])["status"], "ended");
  json n = Ok(Call("meeting.byCode", {{"code", now["inviteCode"]}}, ""));
  EXPECT_EQ(n["status"], "started");
  EXPECT_EQ(n["meeting"]["hasPin"], false);
  // A token changes nothing.
  EXPECT_EQ(Ok(Call("meeting.byCode", {{"code", future["inviteCode"]}}, owner.token)), f);

  for (const char* code : {"000000000", "1", "", "12345678901234567890123456789012"}) {
    SCOPED_TRACE(code);
    std::string c = code;
    if (c == future["inviteCode"].get<std::string>() || c == past["inviteCode"].get<std::string>() ||
        c == now["inviteCode"].get<std::string>())
      continue;
    EXPECT_EQ(Ok(Call("meeting.byCode", {{"code", code}}, "")), (json{{"status", "notFound"}}));
  }
  EXPECT_EQ(ParamOf(Call("meeting.byCode", json::object(), "")), "code");
  EXPECT_EQ(ParamOf(Call("meeting.byCode", {{"code", 123456789}}, "")), "code");
  EXPECT_EQ(ParamOf(Call("meeting.byCode", {{"code", std::string(33, '1')}}, "")), "code");
}

// ---------------------------------------------------------------- meeting.listByRoom

TEST_F(MeetingsTest, ListByRoomNewestFirstWithPaging) {
  User owner = AddUser("owner");
  int64_t roomId = Ok(Call("room.create", {{"name", "r"}}, owner.token))["roomId"];
  std::vector<int64_t> ids;
  for (int64_t start : {20000, 40000, 30000})
    ids.push_back(Create(owner, {{"roomId", roomId}, {"startTime", start}, {"endTime", start + 60}})["meetingId"]);
  Create(owner);  // in a room of its own
  std::vector<int64_t> newestFirst = {ids[1], ids[2], ids[0]};

  json all = Ok(Call("meeting.listByRoom", {{"roomId", roomId}}, owner.token));
  EXPECT_EQ(IdsOf(all["meetings"]), newestFirst);
  EXPECT_EQ(all["total"], 3);
  EXPECT_EQ(all["offset"], 0);
  EXPECT_EQ(all["limit"], 50);
  for (const auto& m : all["meetings"]) {
    EXPECT_EQ(m["roomId"], roomId);
    EXPECT_TRUE(m.contains("inviteCode"));  // the owner sees everything
  }
  json first = Ok(Call("meeting.listByRoom", {{"roomId", roomId}, {"limit", 2}}, owner.token));
  json second = Ok(Call("meeting.listByRoom", {{"roomId", roomId}, {"limit", 2}, {"offset", 2}}, owner.token));
  EXPECT_EQ(first["total"], 3);
  EXPECT_EQ(second["total"], 3);
  std::vector<int64_t> paged = IdsOf(first["meetings"]);
  for (int64_t id : IdsOf(second["meetings"])) paged.push_back(id);
  EXPECT_EQ(paged, newestFirst);

  for (json params : {json{{"roomId", roomId}, {"limit", 0}}, json{{"roomId", roomId}, {"limit", 501}},
                      json{{"roomId", roomId}, {"offset", -1}}, json{{"roomId", "x"}}, json::object()}) {
    SCOPED_TRACE(params.dump());
    EXPECT_EQ(ErrorCodeOf(Call("meeting.listByRoom", params, owner.token)), -32602);
  }
  json unknown = Call("meeting.listByRoom", {{"roomId", 999999}}, owner.token);
  EXPECT_EQ(ErrorCodeOf(unknown), -32003);
  EXPECT_EQ(unknown["error"]["data"]["roomId"], 999999);
  EXPECT_EQ(ErrorCodeOf(Call("meeting.listByRoom", {{"roomId", roomId}}, "")), -32001);
}

TEST_F(MeetingsTest, ListByRoomIsForThoseWhoMayEnterTheRoom) {
  User owner = AddUser("owner");
  User stranger = AddUser("stranger");
  User attendee = AddUser("attendee");
  User invited = AddUser("invited");
  int64_t priv = Ok(Call("room.create", {{"name", "private"}}, owner.token))["roomId"];
  int64_t pub = Ok(Call("room.create", {{"name", "public"}, {"isPublic", true}}, owner.token))["roomId"];
  Ok(Call("room.members.add", {{"roomId", priv}, {"userId", attendee.id}}, owner.token));
  Ok(Call("room.members.add", {{"roomId", priv}, {"userId", invited.id}}, owner.token));
  int64_t privMeeting = Create(owner, {{"roomId", priv}, {"members", {{{"userId", invited.id}}}}})["meetingId"];
  int64_t pubMeeting = Create(owner, {{"roomId", pub}})["meetingId"];

  json denied = Call("meeting.listByRoom", {{"roomId", priv}}, stranger.token);
  EXPECT_EQ(ErrorCodeOf(denied), -32002);
  EXPECT_EQ(denied["error"]["data"]["roomId"], priv);
  EXPECT_EQ(IdsOf(Ok(AdminCall("meeting.listByRoom", {{"roomId", priv}}))["meetings"]), std::vector<int64_t>{privMeeting});

  // Room members list the room's meetings; invite codes and member lists only for those who
  // may see the meeting itself.
  json forAttendee = Ok(Call("meeting.listByRoom", {{"roomId", priv}}, attendee.token))["meetings"];
  ASSERT_EQ(forAttendee.size(), 1u);
  EXPECT_EQ(forAttendee[0]["meetingId"], privMeeting);
  EXPECT_FALSE(forAttendee[0].contains("inviteCode"));
  EXPECT_FALSE(forAttendee[0].contains("members"));
  json forInvited = Ok(Call("meeting.listByRoom", {{"roomId", priv}}, invited.token))["meetings"];
  ASSERT_EQ(forInvited.size(), 1u);
  EXPECT_TRUE(forInvited[0].contains("inviteCode"));
  EXPECT_EQ(forInvited[0]["members"].size(), 1u);

  // A public room: anyone lists it, without the invite codes.
  json forStranger = Ok(Call("meeting.listByRoom", {{"roomId", pub}}, stranger.token))["meetings"];
  ASSERT_EQ(forStranger.size(), 1u);
  EXPECT_EQ(forStranger[0]["meetingId"], pubMeeting);
  EXPECT_FALSE(forStranger[0].contains("inviteCode"));
}

// ---------------------------------------------------------------- room-scoped tokens

TEST_F(MeetingsTest, RoomScopedTokensReachOnlyTheirRoomsMeetings) {
  User owner = AddUser("owner");
  User guest = AddUser("guest");
  int64_t inScope = Create(owner, {{"members", {{{"userId", guest.id}}}}})["meetingId"];
  json scopedRoom = Get(inScope);
  int64_t outOfScope = Create(owner, {{"members", {{{"userId", guest.id}}}}})["meetingId"];
  std::string token = Ok(AdminCall("auth.issueToken", {{"userId", guest.id},
                                                       {"grants", {{"rooms", json::array({scopedRoom["roomId"]})}}}}))["token"];
  EXPECT_EQ(ErrorCodeOf(Call("meeting.get", {{"meetingId", inScope}}, token)), 0);
  EXPECT_EQ(ErrorCodeOf(Call("meeting.get", {{"meetingId", outOfScope}}, token)), -32002);
  EXPECT_EQ(IdsOf(Ok(Call("meeting.list", json::object(), token))["meetings"]), std::vector<int64_t>{inScope});
  // Even the owner's own meeting cannot be managed through a token that only enters the room.
  std::string ownerScoped = Ok(AdminCall("auth.issueToken", {{"userId", owner.id},
                                                             {"grants", {{"rooms", json::array({scopedRoom["roomId"]})}}}}))["token"];
  EXPECT_EQ(ErrorCodeOf(Call("meeting.update", {{"meetingId", inScope}, {"name", "x"}}, ownerScoped)), -32002);
  EXPECT_EQ(ErrorCodeOf(Call("meeting.delete", {{"meetingId", inScope}}, ownerScoped)), -32002);
  EXPECT_EQ(Get(inScope)["name"], scopedRoom["name"]);
}

}  // namespace
}  // namespace atrium::test
