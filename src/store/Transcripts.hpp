// The final text of each transcribed utterance, kept per room and meeting with the speaker
// as it was in the conference, so that a meeting's transcript can be read back afterwards.
#pragma once

#include "store/Database.hpp"
#include "store/Records.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace atrium::store {

struct TranscriptSegment {
  int64_t id = 0;
  int64_t roomId = 0;
  std::optional<int64_t> meetingId;
  std::string participantId;
  std::string participantName;
  std::optional<int64_t> userId;  // signed-in speakers
  std::string streamId;
  int64_t segmentId = 0;  // the speaker's utterance number in that conference
  std::string text;
  int64_t startMs = 0, endMs = 0;  // Unix milliseconds
  int64_t createdAt = 0;
};

class Transcripts {
public:
  explicit Transcripts(Database& db) : db_(db) {}
  int64_t Add(const TranscriptSegment& s);  // returns the id
  // In the order they were spoken: the room's segments, of one meeting when `meetingId` is given.
  PageOf<TranscriptSegment> List(int64_t roomId, std::optional<int64_t> meetingId, const Page& page);

private:
  Database& db_;
};

}  // namespace atrium::store
