#include "rooms/RecordingManager.hpp"

#include "core/Error.hpp"
#include "core/Log.hpp"
#include "rooms/ConferenceRegistry.hpp"
#include "store/Recordings.hpp"

#include <glib/gstdio.h>

#include <algorithm>
#include <cstring>

#define GST_CAT_DEFAULT atrium_rooms_debug

namespace atrium::rooms {

using nlohmann::json;

namespace {

constexpr int kMaxLivePerRoom = 4;
constexpr int kEndWaitMs = 5000;  // how long a closing room waits for its files

int64_t FileSize(const std::string& path) {
  GStatBuf st;
  return g_stat(path.c_str(), &st) == 0 ? int64_t(st.st_size) : 0;
}

// Only names we made ourselves: <digits>.<letters/digits>.
bool IsOurFileName(const std::string& name) {
  auto dot = name.find('.');
  if (dot == 0 || dot == std::string::npos || dot + 1 == name.size()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (i < dot && !g_ascii_isdigit(c)) return false;
    if (i > dot && !g_ascii_isalnum(c)) return false;
  }
  return true;
}

}  // namespace

RecordingManager::RecordingManager(store::Database& db, ConferenceRegistry& conferences, std::string dataDir,
                                   const std::string& pipelinesDir)
    : db_(db), conferences_(conferences), dir_(std::move(dataDir) + "/recordings") {
  profiles_ = media::LoadRecordingProfiles(pipelinesDir);
  if (g_mkdir_with_parents(dir_.c_str(), 0700) != 0)
    GST_ERROR("cannot create the recordings directory; recording will fail [dir:%s error:%s]", dir_.c_str(),
              g_strerror(errno));
}

// The conferences are gone by now (their files ended in OnConferenceEnding): close the
// rows of recordings whose files are all written, without telling anyone.
RecordingManager::~RecordingManager() {
  for (guint id : pending_) g_source_remove(id);
  ending_ = true;
  std::vector<int64_t> ids;
  for (const auto& [id, rec] : live_) ids.push_back(id);
  for (int64_t id : ids) {
    try {
      MaybeComplete(id);
    } catch (const std::exception& e) {
      GST_ERROR("recording row not closed [recording:%" G_GINT64_FORMAT " what:%s]", id, e.what());
    }
  }
}

std::string RecordingManager::PathOf(const store::Recording& r) const {
  if (!IsOurFileName(r.fileName)) return {};
  return dir_ + "/" + r.fileName;
}

void RecordingManager::Notify(int64_t roomId, const std::string& method, const json& params) {
  if (ending_) return;
  if (auto* c = conferences_.Find(roomId)) c->Broadcast(method, params);
}

int64_t RecordingManager::Start(const StartRequest& req) {
  Conference* conf = conferences_.Find(req.roomId);
  if (!conf)
    throw AppError(ErrorCode::Conflict, "the room is not live: recording needs a running conference",
                   {{"roomId", req.roomId}});
  auto profile = profiles_.find(req.format);
  if (profile == profiles_.end()) throw InvalidParams("invalid parameter 'format': no profile for it");
  int inRoom = 0;
  for (const auto& [id, l] : live_)
    if (l.roomId == req.roomId && !l.stopping) ++inRoom;
  if (inRoom >= kMaxLivePerRoom)
    throw AppError(ErrorCode::Conflict, "too many recordings running in this room", {{"roomId", req.roomId}});

  store::Recording row;
  row.roomId = req.roomId;
  row.meetingId = conf->meetingId;
  row.createdBy = req.userId;
  row.orgId = req.orgId;
  row.name = req.name;
  row.format = req.format;
  row.layout = req.layout;
  row.fileName = "";
  row.status = "recording";
  row.startedAt = store::Now();
  int64_t id = store::Recordings(db_).Create(row);

  Live& rec = live_[id];
  rec.id = id;
  rec.roomId = req.roomId;
  rec.format = req.format;
  rec.layout = req.layout;
  rec.name = req.name;
  rec.userId = req.userId;
  rec.orgId = req.orgId;
  rec.meetingId = conf->meetingId;
  rec.startedAt = row.startedAt;
  try {
    if (req.layout == "composite")
      AddComposite(rec, *conf);
    else
      for (const auto* s : conf->LiveStreams()) AddFile(rec, *conf, s->id);
  } catch (const std::exception& e) {
    GST_ERROR("recording could not start [recording:%" G_GINT64_FORMAT " room:%" G_GINT64_FORMAT " reason:%s]", id,
              req.roomId, e.what());
    rec.failed = true;
    rec.error = e.what();
    rec.stopping = true;
    StopAll(rec);
    Notify(req.roomId, "recordingFailed", {{"recordingId", id}, {"roomId", req.roomId}, {"reason", rec.error}});
    ScheduleComplete(id);
    if (const auto* app = dynamic_cast<const AppError*>(&e)) throw AppError(app->code(), app->what(), app->data());
    throw AppError(ErrorCode::Unavailable, e.what());
  }
  GST_INFO("recording started [recording:%" G_GINT64_FORMAT " room:%" G_GINT64_FORMAT " format:%s layout:%s files:%zu]",
           id, req.roomId, req.format.c_str(), req.layout.c_str(), rec.files.size());
  Notify(req.roomId, "recordingStarted",
         {{"recordingId", id}, {"roomId", req.roomId}, {"format", req.format}, {"layout", req.layout}, {"name", req.name}});
  return id;
}

void RecordingManager::AddFile(Live& rec, Conference& conf, const std::string& streamId) {
  const auto& profile = profiles_.at(rec.format);
  store::Recording row;
  row.roomId = rec.roomId;
  row.meetingId = rec.meetingId;
  row.createdBy = rec.userId;
  row.orgId = rec.orgId;
  row.parentId = rec.id;
  row.streamId = streamId;
  row.name = rec.name;
  row.format = rec.format;
  row.layout = rec.layout;
  row.status = "recording";
  row.startedAt = store::Now();
  int64_t fileId = store::Recordings(db_).Create(row);
  row.id = fileId;
  row.fileName = std::to_string(fileId) + "." + profile.extension;
  store::Recordings(db_).SetFileName(fileId, row.fileName);

  File& f = rec.files[fileId];
  f.id = fileId;
  f.streamId = streamId;
  f.source = streamId;
  try {
    StartFile(rec, conf, f, PathOf(row));
  } catch (const std::exception& e) {
    store::Recordings(db_).Finish(fileId, "failed", 0, 0, store::Now(), e.what());
    throw;
  }
}

void RecordingManager::AddComposite(Live& rec, Conference& conf) {
  const auto& profile = profiles_.at(rec.format);
  std::string fileName = std::to_string(rec.id) + "." + profile.extension;
  store::Recordings(db_).SetFileName(rec.id, fileName);
  File& f = rec.files[rec.id];
  f.id = rec.id;
  f.streamId = media::Mixer::kFullMixSource;
  f.source = conf.AcquireComposite();
  f.composite = true;
  store::Recording row;
  row.fileName = fileName;
  StartFile(rec, conf, f, PathOf(row));
}

// The recorder copies what it is given: video in another codec than the container's
// comes from the room's shared transcoding branch for that codec.
void RecordingManager::StartFile(Live& rec, Conference& conf, File& f, const std::string& path) {
  const auto& profile = profiles_.at(rec.format);
  int64_t recId = rec.id, fileId = f.id;
  try {
    media::Codec video;
    if (conf.pipeline().TrackTee(f.source, "video", &video) && video.name != profile.videoCodec)
      f.source = conf.transcoders().Acquire(f.source, profile.videoCodec);
    f.recorder = std::make_unique<media::Recorder>(
        conf.pipeline(), "rec_" + std::to_string(fileId), path, profile,
        [this, recId, fileId](bool ok, const std::string& error) { OnFileDone(recId, fileId, ok, error); });
    f.recorder->Start(f.source);
  } catch (...) {
    f.done = true;
    ReleaseSources(rec, f);
    throw;
  }
}

void RecordingManager::StopFile(Live& rec, File& f) {
  if (f.recorder && !f.done && !f.recorder->stopped()) f.recorder->Stop();
  ReleaseSources(rec, f);
}

void RecordingManager::StopAll(Live& rec) {
  for (auto& [fid, f] : rec.files)
    if (!f.done) StopFile(rec, f);
}

void RecordingManager::ReleaseSources(Live& rec, File& f) {
  if (f.released) return;
  f.released = true;
  Conference* conf = conferences_.Find(rec.roomId);
  if (!conf) return;
  if (media::Transcoders::IsTranscoded(f.source)) conf->transcoders().Release(f.source);
  if (f.composite) conf->ReleaseComposite();
}

void RecordingManager::Stop(int64_t recordingId) {
  auto it = live_.find(recordingId);
  if (it == live_.end() || it->second.stopping)
    throw AppError(ErrorCode::NotFound, "no such recording running", {{"recordingId", recordingId}});
  it->second.stopping = true;
  GST_INFO("recording stopping [recording:%" G_GINT64_FORMAT "]", recordingId);
  StopAll(it->second);
  ScheduleComplete(recordingId);
}

void RecordingManager::OnFileDone(int64_t recordingId, int64_t fileId, bool ok, const std::string& error) {
  auto it = live_.find(recordingId);
  if (it == live_.end()) return;
  Live& rec = it->second;
  auto fit = rec.files.find(fileId);
  if (fit == rec.files.end()) return;
  File& f = fit->second;
  f.done = true;
  f.ok = ok;
  std::string path = f.recorder ? f.recorder->path() : std::string();
  int64_t duration = f.recorder ? f.recorder->durationMs() : 0;
  f.sizeBytes = FileSize(path);
  f.durationMs = duration;
  ReleaseSources(rec, f);
  // A composite's file is the recording's own row, closed by MaybeComplete.
  if (!f.composite)
    store::Recordings(db_).Finish(fileId, ok ? "finished" : "failed", f.sizeBytes, duration, store::Now(), error);
  if (!ok) {
    GST_ERROR("recording file failed [recording:%" G_GINT64_FORMAT " file:%s reason:%s]", recordingId, path.c_str(),
              error.c_str());
  }
  // A file that broke while recording (disk full, unwritable) ends the whole recording;
  // the room goes on.
  if (!ok && !rec.stopping) {
    rec.failed = true;
    rec.error = error;
    rec.stopping = true;
    Notify(rec.roomId, "recordingFailed", {{"recordingId", recordingId}, {"roomId", rec.roomId}, {"reason", error}});
    StopAll(rec);
  }
  ScheduleComplete(recordingId);
}

// Completion runs from the main loop on a fresh stack: recorders are destroyed there,
// never inside one of their own callbacks.
void RecordingManager::ScheduleComplete(int64_t recordingId) {
  struct Job {
    RecordingManager* self;
    int64_t id;
    guint source = 0;
  };
  auto* job = new Job{this, recordingId};
  job->source = g_idle_add_full(
      G_PRIORITY_DEFAULT,
      [](gpointer p) -> gboolean {
        auto* j = static_cast<Job*>(p);
        j->self->pending_.erase(j->source);
        j->self->MaybeComplete(j->id);
        return G_SOURCE_REMOVE;
      },
      job, [](gpointer p) { delete static_cast<Job*>(p); });
  pending_.insert(job->source);
}

void RecordingManager::MaybeComplete(int64_t recordingId) {
  auto it = live_.find(recordingId);
  if (it == live_.end()) return;
  Live& rec = it->second;
  if (!rec.stopping) return;
  for (const auto& [id, f] : rec.files)
    if (!f.done) return;
  int64_t size = 0, duration = 0;
  bool anyOk = false;
  for (const auto& child : store::Recordings(db_).Children(recordingId)) {
    size += child.sizeBytes;
    duration = std::max(duration, child.durationMs);
    anyOk = anyOk || child.status == "finished";
  }
  for (const auto& [fid, f] : rec.files)
    if (f.composite) {
      size = f.sizeBytes;
      duration = f.durationMs;
      anyOk = f.ok;
    }
  std::string status = rec.failed || !anyOk ? "failed" : "finished";
  std::string error = rec.error;
  if (!anyOk && error.empty()) error = rec.files.empty() ? "no stream was published while recording" : "no file was written";
  store::Recordings(db_).Finish(recordingId, status, size, duration, store::Now(), status == "failed" ? error : "");
  GST_INFO("recording ended [recording:%" G_GINT64_FORMAT " status:%s files:%zu duration_ms:%" G_GINT64_FORMAT "]",
           recordingId, status.c_str(), rec.files.size(), duration);
  int64_t roomId = rec.roomId;
  live_.erase(it);
  Notify(roomId, "recordingStopped",
         {{"recordingId", recordingId}, {"roomId", roomId}, {"status", status}, {"durationMs", duration}});
}

void RecordingManager::OnStreamLive(Conference& c, const Conference::Stream& s) {
  for (auto& [id, rec] : live_) {
    if (rec.roomId != c.roomId() || rec.stopping || rec.layout != "tracks") continue;
    try {
      AddFile(rec, c, s.id);
    } catch (const std::exception& e) {
      GST_ERROR("recording could not add a stream [recording:%" G_GINT64_FORMAT " stream:%s reason:%s]", id,
                s.id.c_str(), e.what());
      rec.failed = true;
      rec.error = e.what();
      rec.stopping = true;
      Notify(rec.roomId, "recordingFailed", {{"recordingId", id}, {"roomId", rec.roomId}, {"reason", rec.error}});
      StopAll(rec);
      ScheduleComplete(id);
    }
  }
}

void RecordingManager::OnStreamEnding(Conference& c, const std::string& streamId) {
  for (auto& [id, rec] : live_) {
    if (rec.roomId != c.roomId()) continue;
    for (auto& [fid, f] : rec.files)
      if (f.streamId == streamId && !f.done) StopFile(rec, f);
  }
}

// The pipeline goes next: every file of the room is ended now, waiting for it.
void RecordingManager::OnConferenceEnding(Conference& c) {
  ending_ = true;
  for (auto& [id, rec] : live_) {
    if (rec.roomId != c.roomId()) continue;
    rec.stopping = true;
    for (auto& [fid, f] : rec.files) {
      f.released = true;  // the conference takes its sources down itself
      if (f.recorder && !f.done) f.recorder->StopAndWait(kEndWaitMs);
    }
    ScheduleComplete(id);
  }
  ending_ = false;
}

void RecordingManager::RepairInterrupted() {
  store::Recordings recs(db_);
  auto rows = recs.InProgress();
  // Files first, then the recordings they belong to.
  std::stable_partition(rows.begin(), rows.end(), [](const store::Recording& r) { return !r.fileName.empty(); });
  for (const auto& r : rows) {
    int64_t now = store::Now();
    if (!r.fileName.empty()) {
      std::string path = PathOf(r);
      try {
        if (path.empty()) throw std::runtime_error("not a recording file name");
        int64_t duration = media::RepairRecording(path, r.format);
        recs.Finish(r.id, "finished", FileSize(path), duration, now);
        GST_WARNING("recording repaired after an interruption [recording:%" G_GINT64_FORMAT " file:%s duration_ms:%"
                    G_GINT64_FORMAT "]", r.id, path.c_str(), duration);
      } catch (const std::exception& e) {
        recs.Finish(r.id, "failed", FileSize(path), 0, now, std::string("interrupted; not repairable: ") + e.what());
        GST_ERROR("recording could not be repaired [recording:%" G_GINT64_FORMAT " file:%s reason:%s]", r.id,
                  path.c_str(), e.what());
      }
      continue;
    }
    int64_t size = 0, duration = 0;
    bool anyOk = false;
    for (const auto& child : recs.Children(r.id)) {
      size += child.sizeBytes;
      duration = std::max(duration, child.durationMs);
      anyOk = anyOk || child.status == "finished";
    }
    recs.Finish(r.id, anyOk ? "finished" : "failed", size, duration, now,
                anyOk ? "" : "interrupted; nothing could be repaired");
  }
}

}  // namespace atrium::rooms
