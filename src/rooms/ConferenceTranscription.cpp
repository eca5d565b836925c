// Live transcription of a Conference: hosts start, pause, resume and stop it; while it runs
// every published audio track is recognised (media::Transcriber) and what each speaker says
// goes to the room as `transcription` notifications, the final texts also to the
// TranscriptObserver that keeps them with the meeting. Split from Conference.cpp.
#include "core/Error.hpp"
#include "core/Log.hpp"
#include "rooms/Conference.hpp"

#define GST_CAT_DEFAULT atrium_rooms_debug

namespace atrium::rooms {

using nlohmann::json;

void Conference::Transcribe(const std::string& action, const std::string& by) {
  auto state = [this] { return json{{"transcribing", transcribing()}, {"paused", transcriptionPaused()}}; };
  if (action == "start") {
    if (transcriber_) throw AppError(ErrorCode::Conflict, "transcription is already running", state());
    const media::SpeechEngine& engine = media::SpeechEngine::Default();
    if (std::string missing = engine.Missing(); !missing.empty())
      throw AppError(ErrorCode::Unavailable, "live transcription is not installed on this server: " + missing,
                     {{"engine", engine.name()}, {"missing", missing}});
    transcriber_ = std::make_unique<media::Transcriber>(*pipeline_, engine, *this);
    for (const auto& [id, s] : streams_)
      if (s.live) transcriber_->AddStream(id, s.participantId);
    Broadcast("transcriptionStarted", {{"by", by}});
  } else if (action == "stop") {
    if (!transcriber_) throw AppError(ErrorCode::Conflict, "transcription is not running", state());
    transcriber_.reset();
    Broadcast("transcriptionStopped", {{"by", by}});
  } else if (action == "pause" || action == "resume") {
    bool pause = action == "pause";
    if (!transcriber_ || transcriber_->paused() == pause)
      throw AppError(ErrorCode::Conflict,
                     !transcriber_
                         ? "transcription is not running"
                         : (pause ? "transcription is paused already" : "transcription is not paused"),
                     state());
    transcriber_->SetPaused(pause);
    Broadcast(pause ? "transcriptionPaused" : "transcriptionResumed", {{"by", by}});
  } else {
    throw InvalidParams("unknown transcription action", {{"param", "action"}});
  }
  GST_INFO("transcription %s [room:%" G_GINT64_FORMAT " by:%s]", action.c_str(), roomId_, by.c_str());
}

void Conference::OnTranscription(const media::Transcriber::Utterance& u) {
  auto it = participants_.find(u.participantId);
  if (it == participants_.end()) return;
  json params = {{"participantId", u.participantId},
                 {"streamId", u.streamId},
                 {"segmentId", u.segmentId},
                 {"text", u.text},
                 {"final", u.final}};
  if (u.final) {
    params["startMs"] = u.startMs;
    params["endMs"] = u.endMs;
  }
  Broadcast("transcription", params);
  if (u.final && !u.text.empty() && transcriptObserver_)
    transcriptObserver_->OnTranscript(*this, it->second, u);
}

}  // namespace atrium::rooms
