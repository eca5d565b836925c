#include "rooms/TranscriptArchive.hpp"

#include "core/Log.hpp"
#include "store/Transcripts.hpp"

#define GST_CAT_DEFAULT atrium_rooms_debug

namespace atrium::rooms {

void TranscriptArchive::OnTranscript(Conference& c, const Conference::Participant& speaker,
                                     const media::Transcriber::Utterance& u) {
  store::TranscriptSegment row;
  row.roomId = c.roomId();
  row.meetingId = c.meetingId;
  row.participantId = speaker.id;
  row.participantName = speaker.name;
  row.userId = speaker.userId;
  row.streamId = u.streamId;
  row.segmentId = int64_t(u.segmentId);
  row.text = u.text;
  row.startMs = u.startMs;
  row.endMs = u.endMs;
  row.createdAt = store::Now();
  // The room has heard it already; a failed write loses the stored copy only.
  try {
    int64_t id = store::Transcripts(db_).Add(row);
    GST_DEBUG("transcript kept [room:%" G_GINT64_FORMAT " id:%" G_GINT64_FORMAT " participant:%s]",
              row.roomId, id, row.participantId.c_str());
  } catch (const std::exception& e) {
    GST_ERROR("transcript not kept [room:%" G_GINT64_FORMAT " participant:%s what:%s]", row.roomId,
              row.participantId.c_str(), e.what());
  }
}

}  // namespace atrium::rooms
