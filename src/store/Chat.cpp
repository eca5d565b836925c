#include "store/Chat.hpp"

namespace atrium::store {

namespace {

#define CHAT_COLUMNS                                                                                        \
  "id, room_id, meeting_id, sender_user_id, sender_participant_id, sender_name, recipient_user_id, "      \
  "recipient_participant_id, recipient_name, content, file_id, created_at"

ChatMessage Read(const Statement& s) {
  ChatMessage m;
  m.id = s.int64(0);
  m.roomId = s.int64(1);
  m.meetingId = s.optInt64(2);
  m.senderUserId = s.optInt64(3);
  m.senderParticipantId = s.text(4);
  m.senderName = s.text(5);
  m.recipientUserId = s.optInt64(6);
  m.recipientParticipantId = s.optText(7);
  m.recipientName = s.optText(8);
  m.content = s.text(9);
  m.fileId = s.optInt64(10);
  m.createdAt = s.int64(11);
  return m;
}

}  // namespace

int64_t Chat::Add(const ChatMessage& m) {
  db_.prepare("INSERT INTO chat_messages (room_id, meeting_id, sender_user_id, sender_participant_id, sender_name, "
              "recipient_user_id, recipient_participant_id, recipient_name, content, file_id, created_at) "
              "VALUES (?,?,?,?,?,?,?,?,?,?,?)")
      .bindAll(m.roomId, m.meetingId, m.senderUserId, m.senderParticipantId, m.senderName, m.recipientUserId,
               m.recipientParticipantId, m.recipientName, m.content, m.fileId, m.createdAt)
      .exec();
  return db_.lastInsertId();
}

std::vector<ChatMessage> Chat::History(int64_t roomId, std::optional<int64_t> meetingId,
                                       std::optional<int64_t> before, int64_t limit, const ChatReader& reader) {
  // A private message is visible to its sender and its recipient only, matched by user id
  // or, for guests, by participant id.
  auto s = db_.prepare("SELECT " CHAT_COLUMNS " FROM chat_messages WHERE room_id = ?1 "
                       "AND (?2 IS NULL OR meeting_id = ?2) AND (?3 IS NULL OR id < ?3) "
                       "AND (recipient_participant_id IS NULL "
                       "  OR (?4 IS NOT NULL AND (sender_user_id = ?4 OR recipient_user_id = ?4)) "
                       "  OR (?5 IS NOT NULL AND created_at >= ?7 "
                       "      AND (sender_participant_id = ?5 OR recipient_participant_id = ?5))) "
                       "ORDER BY id DESC LIMIT ?6");
  s.bindAll(roomId, meetingId, before, reader.userId, reader.participantId, limit, reader.participantSince);
  std::vector<ChatMessage> out;
  while (s.step()) out.push_back(Read(s));
  return out;
}

}  // namespace atrium::store
