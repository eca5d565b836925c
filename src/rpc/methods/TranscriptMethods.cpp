// transcript.list: what live transcription kept of a room's meetings (the final text of each
// utterance, with its speaker), read back by the room's readers as chat history is, during
// the conference and after it.
#include "rpc/Services.hpp"
#include "rpc/methods/RoomContent.hpp"
#include "rpc/methods/Views.hpp"
#include "store/Transcripts.hpp"

namespace atrium::rpc {

using nlohmann::json;

namespace {

json OptId(const std::optional<int64_t>& v) {
  return v ? json(*v) : json(nullptr);
}

json SegmentView(const store::TranscriptSegment& t) {
  return {{"transcriptId", t.id},
          {"roomId", t.roomId},
          {"meetingId", OptId(t.meetingId)},
          {"speaker",
           {{"participantId", t.participantId}, {"userId", OptId(t.userId)}, {"name", t.participantName}}},
          {"streamId", t.streamId},
          {"segmentId", t.segmentId},
          {"text", t.text},
          {"startMs", t.startMs},
          {"endMs", t.endMs},
          {"createdAt", t.createdAt}};
}

}  // namespace

void RegisterTranscriptMethods(Dispatcher& d, Services& s) {
  d.Add("transcript.list", Access::Public, [&s](Call& c) {
    int64_t roomId = c.params.id("roomId");
    auto meetingId = c.params.optId("meetingId");
    int64_t pageNo = c.params.optInteger("pageNo", 1, INT32_MAX).value_or(1);
    int64_t pageSize = c.params.optInteger("pageSize", 1, 500).value_or(100);
    store::Room room = views::RoomOr404(s, roomId);
    content::RequireReader(s, c, room);
    store::Page page;
    page.limit = pageSize;
    page.offset = (pageNo - 1) * pageSize;
    auto result = store::Transcripts(s.db).List(roomId, meetingId, page);
    json segments = json::array();
    for (const auto& t : result.items) segments.push_back(SegmentView(t));
    return json{{"segments", std::move(segments)},
                {"totalCount", result.total},
                {"totalPage", (result.total + pageSize - 1) / pageSize},
                {"pageNo", pageNo},
                {"pageSize", pageSize}};
  });
}

}  // namespace atrium::rpc
