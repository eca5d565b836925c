// Chat messages of a room, kept per room and meeting so that people who join late can
// read back. Private messages are stored with their recipient and shown only to their
// two parties (see Chat::History).
#pragma once

#include "store/Database.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace atrium::store {

struct ChatMessage {
  int64_t id = 0;
  int64_t roomId = 0;
  std::optional<int64_t> meetingId;
  std::optional<int64_t> senderUserId;
  std::string senderParticipantId;
  std::string senderName;
  // Set for a private message: the recipient as it was in the conference.
  std::optional<int64_t> recipientUserId;
  std::optional<std::string> recipientParticipantId;
  std::optional<std::string> recipientName;
  std::string content;
  std::optional<int64_t> fileId;
  int64_t createdAt = 0;

  bool isPrivate() const { return recipientParticipantId.has_value(); }
};

// Who reads the history: a private message is shown when the reader is one of its parties,
// by user id (signed in) or by participant id (a guest, from the time it joined: a
// participant id of an earlier conference may come again).
struct ChatReader {
  std::optional<int64_t> userId;
  std::optional<std::string> participantId;
  int64_t participantSince = 0;
};

class Chat {
public:
  explicit Chat(Database& db) : db_(db) {}
  int64_t Add(const ChatMessage& m);  // returns the id
  // Newest first: up to `limit` messages of the room with an id below `before` (all when
  // absent), of one meeting when `meetingId` is given, that `reader` may see.
  std::vector<ChatMessage> History(int64_t roomId, std::optional<int64_t> meetingId, std::optional<int64_t> before,
                                   int64_t limit, const ChatReader& reader);

private:
  Database& db_;
};

}  // namespace atrium::store
