#include "store/Transcripts.hpp"

namespace atrium::store {

namespace {

#define TRANSCRIPT_COLUMNS                                                                            \
  "id, room_id, meeting_id, participant_id, participant_name, user_id, stream_id, segment_id, text, " \
  "start_ms, "                                                                                        \
  "end_ms, created_at"

TranscriptSegment Read(const Statement& s) {
  TranscriptSegment t;
  t.id = s.int64(0);
  t.roomId = s.int64(1);
  t.meetingId = s.optInt64(2);
  t.participantId = s.text(3);
  t.participantName = s.text(4);
  t.userId = s.optInt64(5);
  t.streamId = s.text(6);
  t.segmentId = s.int64(7);
  t.text = s.text(8);
  t.startMs = s.int64(9);
  t.endMs = s.int64(10);
  t.createdAt = s.int64(11);
  return t;
}

}  // namespace

int64_t Transcripts::Add(const TranscriptSegment& t) {
  db_.prepare(
         "INSERT INTO transcripts (room_id, meeting_id, participant_id, participant_name, user_id, "
         "stream_id, "
         "segment_id, text, start_ms, end_ms, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)")
      .bindAll(t.roomId, t.meetingId, t.participantId, t.participantName, t.userId, t.streamId, t.segmentId,
               t.text, t.startMs, t.endMs, t.createdAt)
      .exec();
  return db_.lastInsertId();
}

PageOf<TranscriptSegment> Transcripts::List(int64_t roomId, std::optional<int64_t> meetingId,
                                            const Page& page) {
  PageOf<TranscriptSegment> out;
  auto count =
      db_.prepare("SELECT COUNT(*) FROM transcripts WHERE room_id = ?1 AND (?2 IS NULL OR meeting_id = ?2)");
  count.bindAll(roomId, meetingId);
  if (count.step()) out.total = count.int64(0);
  auto s = db_.prepare("SELECT " TRANSCRIPT_COLUMNS
                       " FROM transcripts WHERE room_id = ?1 "
                       "AND (?2 IS NULL OR meeting_id = ?2) ORDER BY start_ms, id LIMIT ?3 OFFSET ?4");
  s.bindAll(roomId, meetingId, page.limit, page.offset);
  while (s.step()) out.items.push_back(Read(s));
  return out;
}

}  // namespace atrium::store
