// The live recordings of this node: starts and stops them, follows streams as they come
// and go (layout `tracks`: one file per published stream), keeps the archive rows in step,
// tells the room (recordingStarted/Stopped/Failed), and at start-up repairs files that a
// crash left unfinished. Owned by the daemon; observes every conference; control thread.
#pragma once

#include "media/Recorder.hpp"
#include "media/RecordingProfile.hpp"
#include "rooms/Conference.hpp"
#include "store/Database.hpp"
#include "store/Records.hpp"

#include <map>
#include <set>
#include <memory>
#include <string>

namespace atrium::rooms {

class ConferenceRegistry;

class RecordingManager : public Conference::StreamObserver {
public:
  // Loads and checks the profiles (throws media::ProfileError) and creates the
  // recordings directory.
  RecordingManager(store::Database& db, ConferenceRegistry& conferences, std::string dataDir,
                   const std::string& pipelinesDir);
  ~RecordingManager() override;

  struct StartRequest {
    int64_t roomId = 0;
    std::string format;  // webm, mp4
    std::string layout;  // tracks, composite
    std::string name;
    std::optional<int64_t> userId;
    std::optional<int64_t> orgId;
  };
  // Returns the recording id. Throws AppError: NotFound / Conflict (room not live),
  // Unavailable (cannot write, layout not available).
  int64_t Start(const StartRequest& req);
  // Ends the recording's files; the row is finished and recordingStopped sent once they
  // are written. Throws NotFound (no such live recording).
  void Stop(int64_t recordingId);
  bool IsLive(int64_t recordingId) const { return live_.count(recordingId) != 0; }

  // Where a recording's file lives: <data-dir>/recordings/<id>.<ext>, from the id only.
  std::string PathOf(const store::Recording& r) const;
  const std::string& directory() const { return dir_; }

  // Rows left as `recording` by a crash: files remuxed and marked finished, or failed.
  void RepairInterrupted();

  // Conference::StreamObserver
  void OnStreamLive(Conference& c, const Conference::Stream& s) override;
  void OnStreamEnding(Conference& c, const std::string& streamId) override;
  void OnConferenceEnding(Conference& c) override;

private:
  struct File {
    int64_t id = 0;  // its row (a composite's file is the recording's own row)
    std::string streamId;
    std::string source;      // what the recorder taps: the stream, "mix", or a transcoded copy
    bool composite = false;  // holds the conference's composite
    bool released = false;   // source and composite handed back
    std::unique_ptr<media::Recorder> recorder;
    bool done = false;
    bool ok = false;
    int64_t sizeBytes = 0, durationMs = 0;  // composite: kept for the recording's row
  };
  struct Live {
    int64_t id = 0;
    int64_t roomId = 0;
    std::string format;
    std::string layout;
    std::string name;
    std::optional<int64_t> userId, orgId, meetingId;
    std::map<int64_t, File> files;  // by row id
    bool stopping = false;
    bool failed = false;
    std::string error;
    int64_t startedAt = 0;
  };

  void AddFile(Live& rec, Conference& conf, const std::string& streamId);
  // Layout composite: the one file, written to the recording's own row.
  void AddComposite(Live& rec, Conference& conf);
  // Ends a file and hands its sources back to the conference (if it is still there).
  void StopFile(Live& rec, File& f);
  void ReleaseSources(Live& rec, File& f);
  // Stops every file of `rec` that is still being written.
  void StopAll(Live& rec);
  void StartFile(Live& rec, Conference& conf, File& f, const std::string& path);
  void OnFileDone(int64_t recordingId, int64_t fileId, bool ok, const std::string& error);
  // Ends the parent row and tells the room, once every file is written.
  void MaybeComplete(int64_t recordingId);
  void ScheduleComplete(int64_t recordingId);
  void Notify(int64_t roomId, const std::string& method, const nlohmann::json& params);

  store::Database& db_;
  ConferenceRegistry& conferences_;
  std::string dir_;
  std::map<std::string, media::RecordingProfile> profiles_;
  std::map<int64_t, Live> live_;
  std::set<guint> pending_;  // idle sources that may still run
  bool ending_ = false;  // a conference is ending: no notifications, files end now
};

}  // namespace atrium::rooms
