// A live conference: the participants in one room right now, the streams they publish
// and play, and the room's media pipeline. Owned by the ConferenceRegistry, on the
// control thread. Clients hear about changes through each participant's Notify.
#pragma once

#include "media/ActiveSpeaker.hpp"
#include "media/Filters.hpp"
#include "media/LevelMeters.hpp"
#include "media/Mixer.hpp"
#include "media/RoomPipeline.hpp"
#include "media/Transcoders.hpp"
#include "media/Transcriber.hpp"

#include <glib.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace atrium::rooms {

class LinkMonitor;
struct LinkThresholds;

class Conference : public media::RoomPipeline::Listener,
                   public media::Mixer::Listener,
                   public media::Transcriber::Listener {
public:
  using Notify = std::function<void(const std::string& method, const nlohmann::json& params)>;
  using AnswerDone = media::RoomPipeline::AnswerDone;

  struct Participant {
    std::string id;
    std::string name;
    std::string role;  // host, speaker, attendee, guest
    std::optional<int64_t> userId;
    uint64_t sessionId = 0;
    int64_t joinedAt = g_get_real_time() / G_USEC_PER_SEC;  // Unix seconds
    Notify notify;
    std::set<std::string> streams;
    std::set<std::string> plays;
    // Meeting controls (ConferenceControls.cpp): what a host imposed, and what the
    // participant says about its own mic and camera.
    bool muted = false;          // a host muted it: the server drops its audio
    bool mayUnmute = false;      // ... and lets it unmute itself
    bool videoDisabled = false;  // a host disabled its video: the server drops it
    bool mayEnableVideo = false;
    bool handRaised = false;
    bool audio = true, video = true;  // self-reported (conference.updateMedia)
    int videoMax = 0;  // conference.setVideoMax: most video plays at once, 0 = no cap
  };
  // A participant a host removed; it may not join again unless allowRejoin.
  struct Kicked {
    std::string participantId;
    std::string name;
    std::optional<int64_t> userId;
    uint64_t sessionId = 0;  // guests are recognised by their connection only
    bool allowRejoin = false;
  };
  struct Stream {
    std::string id;
    std::string participantId;
    std::string kind;  // camera, screen
    std::vector<std::string> tracks;
    bool live = false;  // answered; announced to the room
    std::vector<std::string> layers;  // simulcast rids, smallest first
  };
  struct Playback {
    std::string id;
    std::string participantId;
    std::string streamId;
    std::string source;  // what the pipeline plays: the stream, the participant's mix, or a transcoded copy
    uint64_t serial = 0;  // creation order
    bool video = false;   // it receives video (counts against videoMax)
  };

  // Told when a stream goes live, just before one goes, and just before the pipeline
  // ends; recording hangs off the pipeline and must let go in time.
  class StreamObserver {
  public:
    virtual ~StreamObserver() = default;
    virtual void OnStreamLive(Conference& c, const Stream& s) = 0;
    virtual void OnStreamEnding(Conference& c, const std::string& streamId) = 0;
    virtual void OnConferenceEnding(Conference& c) = 0;
  };
  void SetStreamObserver(StreamObserver* o) { observer_ = o; }
  // Told each final transcribed utterance (with text), to keep it with the meeting.
  class TranscriptObserver {
  public:
    virtual ~TranscriptObserver() = default;
    virtual void OnTranscript(Conference& c, const Participant& speaker,
                              const media::Transcriber::Utterance& u) = 0;
  };
  void SetTranscriptObserver(TranscriptObserver* o) { transcriptObserver_ = o; }
  media::RoomPipeline& pipeline() { return *pipeline_; }
  std::vector<const Stream*> LiveStreams() const;

  // Told when nobody is left, so that the owner can drop the conference later.
  // MCU rooms ("mcu") mix at the size of `definition` with the installed McuProfile.
  Conference(int64_t roomId, std::string mode, media::IceConfig ice, std::function<void(int64_t)> onEmpty,
             const std::string& definition = "720p");
  ~Conference() override;

  int64_t roomId() const { return roomId_; }
  const std::string& mode() const { return mode_; }
  size_t size() const { return participants_.size(); }
  std::optional<int64_t> meetingId;

  Participant& Join(Participant p);
  // Wall-clock start (Unix seconds) and monotonic start, for conference.info.
  const int64_t startedAt = g_get_real_time() / G_USEC_PER_SEC;
  const int64_t startedMonotonic = g_get_monotonic_time();
  // Removes a participant with everything it publishes and plays; tells the others.
  void Leave(const std::string& participantId);
  // Ends the conference for everyone (meetingFinished), then removes them all.
  void Finish();

  // Returns the new streamId; the answer comes through `done`. Throws on bad input.
  // A "screen" stream is refused (Conflict) while another one is live or pending, unless
  // `takeOver` and the caller is a host: then the other one ends.
  std::string Publish(const std::string& participantId, const std::string& kind, const std::string& sdp,
                      AnswerDone done, bool takeOver = false);
  std::string Play(const std::string& participantId, const std::string& streamId, const std::string& sdp,
                   AnswerDone done);
  void Unpublish(const std::string& participantId, const std::string& streamId);
  void Stop(const std::string& participantId, const std::string& playId);
  void AddCandidate(const std::string& participantId, const std::string& id, unsigned mline,
                    const std::string& candidate);

  const Participant* Find(const std::string& participantId) const;
  // Everyone but `except`, each with the streams it publishes.
  nlohmann::json ParticipantsJson(const std::string& except = {}) const;
  static nlohmann::json ParticipantJson(const Participant& p);
  void Broadcast(const std::string& method, const nlohmann::json& params, const std::string& except = {});

  // ---- meeting controls (ConferenceControls.cpp); `by` is the acting participant ----
  bool IsHost(const std::string& participantId) const;
  void SetMuted(const std::string& participantId, bool muted, bool allowUnmute, const std::string& by);
  // Every participant but the hosts, and those who join while it holds.
  void MuteAll(bool muted, bool allowUnmute, const std::string& by);
  void SetVideoDisabled(const std::string& participantId, bool disabled, bool allowEnable, const std::string& by);
  // `kicked` to it, its peers closed, participantLeft to the others.
  void Kick(const std::string& participantId, bool allowRejoin, const std::string& by);
  // Lets a kicked participant (by its old id) join again. NotFound if it was not kicked.
  void AllowRejoin(const std::string& participantId);
  void SetHost(const std::string& participantId, bool handOver, const std::string& by);
  void RaiseHand(const std::string& participantId, bool raised);
  void Rename(const std::string& participantId, const std::string& name);
  // Self-reported mic/camera; turning on what a host turned off needs the host's leave.
  void UpdateMedia(const std::string& participantId, std::optional<bool> audio, std::optional<bool> video);
  bool allMuted() const { return allMuted_; }
  bool allMayUnmute() const { return allMayUnmute_; }
  const std::vector<Kicked>& kicked() const { return kicked_; }
  // The live screen share's stream, "" when none is live.
  std::string ScreenShareStream() const;
  // Told when a screen share goes live or ends (an MCU switches to its presentation layout).
  std::function<void(const std::string& streamId, bool active)> onScreenShare;
  // Polls RTP statistics and announces linkSlow; conference.stats reads it.
  void StartLinkMonitor(const LinkThresholds& t);
  LinkMonitor* links() const { return links_.get(); }
  const std::map<std::string, Stream>& streams() const { return streams_; }
  const std::map<std::string, Playback>& plays() const { return plays_; }

  // media::RoomPipeline::Listener
  void OnPeerCandidate(const std::string& peerId, unsigned mline, const std::string& candidate) override;
  void OnPeerFailed(const std::string& peerId, const std::string& reason) override;
  void OnPlaySwitched(const std::string& peerId, int to, const std::string& sourceId,
                      const std::string& reason) override;

  // ---- simulcast and the voice-activated stream (SFU) ----
  // The layer (0 = smallest) one of the participant's plays gets; returns the layer set.
  // Throws NotFound (not its play), Conflict (the stream sends no layers).
  int SetLayer(const std::string& participantId, const std::string& playId, int layer);
  // Every play of the participant that has layers; returns how many.
  int SetLayerAll(const std::string& participantId, int layer);
  // The most videos the participant plays at once (0: no cap); the oldest video plays
  // beyond it stop now and whenever a new one starts (`playStopped` to it).
  void SetVideoMax(const std::string& participantId, int max);
  // filter.apply / filter.remove on a stream's video, by its publisher or a host (checked
  // here: Forbidden otherwise). Throws as media::Filters does; NotFound for no such stream.
  void ApplyFilter(const std::string& participantId, const std::string& streamId, const std::string& filter,
                   const nlohmann::json& params);
  void RemoveFilter(const std::string& participantId, const std::string& streamId);
  nlohmann::json FilterOf(const std::string& streamId) const { return filters_ ? filters_->Describe(streamId) : nullptr; }
  // The active speaker (SFU rooms: from audio levels), "" when nobody spoke yet.
  const std::string& ActiveSpeakerId() const { return speakers_.current(); }

  // MCU: the mix's layout (throws InvalidParams, or Conflict outside MCU rooms).
  void SetLayout(const nlohmann::json& params);
  media::Mixer* mixer() { return mixer_.get(); }
  // The room as one picture and one sound ("mix": composite video, everyone's audio), for
  // a composite recording. MCU rooms have it; an SFU room starts a mixer for it on the
  // first Acquire and stops it after the last Release.
  std::string AcquireComposite();
  void ReleaseComposite();
  media::Transcoders& transcoders() { return *transcoders_; }
  const media::Transcoders& transcoders() const { return *transcoders_; }
  // media::Mixer::Listener
  void OnMixerLevel(const std::string& participantId, double levelDb) override;

  // ---- live transcription (ConferenceTranscription.cpp) ----
  // `action` is start, stop, pause or resume; `by` the host who asked. Throws Conflict when
  // the action does not fit the state, Unavailable when the speech engine or its model is
  // not installed.
  void Transcribe(const std::string& action, const std::string& by);
  bool transcribing() const { return transcriber_ != nullptr; }
  bool transcriptionPaused() const { return transcriber_ && transcriber_->paused(); }
  // media::Transcriber::Listener
  void OnTranscription(const media::Transcriber::Utterance& u) override;

private:
  Participant& Require(const std::string& participantId);
  // The participant that publishes or plays this peer ("" if none).
  std::string OwnerOf(const std::string& peerId) const;
  void RemoveStream(const std::string& streamId, bool announce);
  void RemovePlay(const std::string& playId);
  std::string NewId(const char* prefix);
  // Meeting-control hooks of Join, Publish and RemoveStream (ConferenceControls.cpp).
  void Admit(Participant& p);
  // Throws Conflict when a screen share is taken; returns the share a host takes over.
  std::string ClaimScreen(const Participant& p, const std::string& kind, bool takeOver);
  // The new stream exists in the pipeline: apply mutes, end the share it took over.
  void OnStreamCreated(const Participant& p, const std::string& streamId, const std::string& replaced);
  void OnStreamLive(const Stream& s);
  void OnStreamGone(const Stream& s);
  static void AddStateJson(const Participant& p, nlohmann::json& j);
  nlohmann::json Updated(const Participant& p) const;
  std::string PlayMix(Participant& p, const std::string& sdp, AnswerDone done);
  // Plays `source` for `p`; a subscriber whose offer cannot take the source's video codec
  // but takes another gets a transcoded copy (shared with others of that codec).
  std::string PlaySource(Participant& p, const std::string& streamId, const std::string& source,
                         const std::string& sdp, AnswerDone done);
  void StartMixer();
  // "speaker": a video play that follows the active speaker's camera.
  std::string PlaySpeaker(Participant& p, const std::string& sdp, AnswerDone done);
  // The camera stream to show for `participantId` in a speaker play ("" if none).
  std::string CameraOf(const std::string& participantId) const;
  // SFU rooms, every 100 ms: levels → speaking notifications and the active speaker.
  void PollLevels();
  void EnforceVideoMax(Participant& p, const std::string& keepPlayId);

  int64_t roomId_;
  std::string mode_;
  std::function<void(int64_t)> onEmpty_;
  std::map<std::string, Participant> participants_;
  std::map<std::string, Stream> streams_;
  std::map<std::string, Playback> plays_;
  std::unique_ptr<media::RoomPipeline> pipeline_;
  std::string definition_;
  std::unique_ptr<media::Mixer> mixer_;  // MCU rooms; SFU rooms while a composite is recorded
  int compositeUsers_ = 0;
  std::unique_ptr<media::Transcoders> transcoders_;
  std::unique_ptr<media::Filters> filters_;    // from the first filter.apply
  media::ActiveSpeaker speakers_;              // SFU rooms
  std::unique_ptr<media::LevelMeters> meters_;  // SFU rooms while a speaker play exists
  guint levelTimer_ = 0;
  uint64_t playSerial_ = 0;
  StreamObserver* observer_ = nullptr;
  uint64_t nextId_ = 1;
  bool allMuted_ = false, allMayUnmute_ = false;
  std::vector<Kicked> kicked_;
  std::string screenStream_;  // the screen share, live or waiting for its answer
  std::optional<media::LayoutSpec> layoutBeforeShare_;  // MCU: restored when the share ends
  std::unique_ptr<LinkMonitor> links_;
  std::unique_ptr<media::Transcriber> transcriber_;  // while transcription runs
  TranscriptObserver* transcriptObserver_ = nullptr;
};

}  // namespace atrium::rooms
