// chat.send and chat.history: messages to the room's live conference or privately to one
// participant, stored per room and meeting so that people who join late can read back.
// Private messages reach, and are shown to, their two parties only.
#include "core/Log.hpp"
#include "rpc/Services.hpp"
#include "rpc/methods/RoomContent.hpp"
#include "rpc/methods/Views.hpp"
#include "store/Chat.hpp"
#include "store/Files.hpp"

#define GST_CAT_DEFAULT atrium_rpc_debug

namespace atrium::rpc {

using nlohmann::json;

namespace {

json OptId(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }

json MessageView(Services& s, const store::ChatMessage& m) {
  json j = {{"messageId", m.id},
            {"roomId", m.roomId},
            {"meetingId", OptId(m.meetingId)},
            {"from", {{"participantId", m.senderParticipantId}, {"userId", OptId(m.senderUserId)}, {"name", m.senderName}}},
            {"content", m.content},
            {"time", m.createdAt},
            {"private", m.isPrivate()}};
  if (m.isPrivate())
    j["to"] = {{"participantId", *m.recipientParticipantId},
               {"userId", OptId(m.recipientUserId)},
               {"name", m.recipientName.value_or("")}};
  if (m.fileId) {
    if (auto f = store::Files(s.db).Find(*m.fileId)) j["file"] = content::FileView(*f);
  }
  return j;
}

// Chat text: 0..max bytes of UTF-8 (the parser checked it) without control characters
// other than tab and line breaks; blank text counts as empty.
std::string ChatContent(const Params& p, size_t maxLen, bool required) {
  auto text = p.optStr("content", SIZE_MAX).value_or("");
  std::string expected = "a message of 1.." + std::to_string(maxLen) + " bytes";
  if (text.size() > maxLen) Params::Fail("content", expected.c_str());
  for (unsigned char ch : text)
    if ((ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') || ch == 0x7f)
      Params::Fail("content", "a message without control characters");
  bool blank = text.find_first_not_of(" \t\r\n") == std::string::npos;
  if (blank && required) Params::Fail("content", expected.c_str());
  return blank ? std::string() : text;
}

}  // namespace

void RegisterChatMethods(Dispatcher& d, Services& s) {
  d.Add("chat.send", Access::Public, [&s](Call& c) {
    if (c.session.kind() != Session::Kind::WebSocket)
      throw AppError(ErrorCode::InvalidRequest, c.method + " needs a WebSocket session on /rpc");
    const auto* m = s.conferences.MembershipOf(c.session.id());
    rooms::Conference* conf = m ? s.conferences.Find(m->roomId) : nullptr;
    const auto* me = conf ? conf->Find(m->participantId) : nullptr;
    if (!me) throw AppError(ErrorCode::NotJoined, "join a conference on this connection first");

    auto fileId = c.params.optId("fileId");
    std::string text = ChatContent(c.params, size_t(s.config.chatMaxLength), !fileId);
    auto to = c.params.optStr("to", 64);

    store::ChatMessage msg;
    msg.roomId = conf->roomId();
    msg.meetingId = conf->meetingId;
    msg.senderUserId = me->userId;
    msg.senderParticipantId = me->id;
    msg.senderName = me->name;
    msg.content = text;
    const rooms::Conference::Participant* recipient = nullptr;
    if (to) {
      if (*to == me->id) Params::Fail("to", "another participant's id");
      recipient = conf->Find(*to);
      if (!recipient) throw AppError(ErrorCode::NotFound, "no such participant in this conference", {{"participantId", *to}});
      msg.recipientUserId = recipient->userId;
      msg.recipientParticipantId = recipient->id;
      msg.recipientName = recipient->name;
    }
    if (fileId) {
      auto f = store::Files(s.db).Find(*fileId);
      if (!f || f->roomId != msg.roomId)
        throw AppError(ErrorCode::NotFound, "no such file in this room", {{"fileId", *fileId}});
      msg.fileId = f->id;
    }
    msg.createdAt = store::Now();
    msg.id = store::Chat(s.db).Add(msg);
    json view = MessageView(s, msg);
    if (recipient) {
      if (recipient->notify) recipient->notify("privateChat", view);
    } else {
      conf->Broadcast("chat", view, me->id);
    }
    GST_DEBUG("chat message [room:%" G_GINT64_FORMAT " id:%" G_GINT64_FORMAT " private:%d]", msg.roomId, msg.id,
              int(msg.isPrivate()));
    return json{{"message", view}};
  });

  d.Add("chat.history", Access::Public, [&s](Call& c) {
    int64_t roomId = c.params.id("roomId");
    auto meetingId = c.params.optId("meetingId");
    auto before = c.params.optId("before");
    int64_t limit = c.params.optInteger("limit", 1, 500).value_or(50);
    store::Room room = views::RoomOr404(s, roomId);
    content::Reader reader = content::RequireReader(s, c, room);
    store::ChatReader who;
    if (reader.who) who.userId = reader.who->userId;
    who.participantId = reader.participantId;
    who.participantSince = reader.joinedAt;
    auto rows = store::Chat(s.db).History(roomId, meetingId, before, limit, who);
    json messages = json::array();
    for (auto it = rows.rbegin(); it != rows.rend(); ++it) messages.push_back(MessageView(s, *it));
    return json{{"messages", std::move(messages)}, {"limit", limit}};
  });
}

}  // namespace atrium::rpc
