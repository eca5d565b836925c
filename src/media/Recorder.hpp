// Records one publisher's tracks into one file (WebM or MP4), as a bin in the room's
// pipeline fed from the publisher's track tees. Copies VP8/Opus into WebM and H.264 into
// MP4 as they are, and encodes Opus into the profile's audio codec; video in another codec
// is the caller's to transcode first (media::Transcoders, shared with the room).
// Owned by the rooms layer's RecordingManager; every method runs on the control thread.
#pragma once

#include "media/RecordingProfile.hpp"
#include "media/RoomPipeline.hpp"

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace atrium::media {

class Recorder {
public:
  // The file is complete (ok) or broke (!ok, with a reason). Runs on the control thread,
  // at most once; the recorder may be destroyed from it.
  using Done = std::function<void(bool ok, const std::string& error)>;

  Recorder(RoomPipeline& room, std::string name, std::string path, const RecordingProfile& profile, Done done);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Hangs the branch off every track of the publisher. Throws AppError when the branch
  // cannot be built or the file cannot be opened.
  void Start(const std::string& publisherId);
  // Detaches from the tees and ends the file; Done follows once it is written.
  void Stop();
  // Stop(), then waits (blocking the control thread, at most `timeoutMs`) until the file
  // is written; for a pipeline that is about to go. Done runs before this returns.
  void StopAndWait(int timeoutMs);

  const std::string& path() const { return path_; }
  const std::string& publisherId() const { return publisherId_; }
  // Media time written so far (the longest track), in milliseconds.
  int64_t durationMs() const;
  bool stopped() const { return stopped_; }

  struct State;
  struct Track;

private:
  void Finish(bool ok, const std::string& error);
  void Teardown();
  GstElement* BuildTrack(Track& t);

  RoomPipeline& room_;
  std::string name_;
  std::string path_;
  RecordingProfile profile_;
  Done done_;
  std::string publisherId_;
  std::shared_ptr<State> state_;
  GstElement* bin_ = nullptr;
  GstElement* mux_ = nullptr;
  std::vector<std::unique_ptr<Track>> tracks_;
  bool stopped_ = false;
  bool finished_ = false;
};

// Rewrites a file left unfinished by a crash: remuxes it into a complete file of the same
// format (Matroska gets its index and duration; fragmented MP4 a full moov). Returns the
// media duration in ms; throws std::runtime_error when nothing playable is left. Blocks.
int64_t RepairRecording(const std::string& path, const std::string& format);

// The media duration of a finished file in ms (0 when it cannot be read). Blocks.
int64_t ProbeDurationMs(const std::string& path);

}  // namespace atrium::media
