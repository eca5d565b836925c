// Live transcription of a room. A SpeechEngine is a recogniser built from GStreamer
// elements; the Transcriber hangs one per published audio track off the track's tee (a
// masked, leaky branch that decodes the Opus to what the engine takes) and turns the
// engine's results, which reach the control thread as element messages on the room's bus,
// into per-speaker utterances. Owned by the room's Conference while transcription runs.
#pragma once

#include "media/RoomPipeline.hpp"

#include <gio/gio.h>
#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace atrium::media {

// One result of a recogniser: its current guess at the utterance in progress (partial),
// or the utterance's text once the speaker paused (final).
struct SpeechResult {
  std::string text;
  bool final = false;
  GstClockTime timestamp = GST_CLOCK_TIME_NONE;  // running time of the audio it came from, when known
};

// A speech recogniser as GStreamer elements, so that another engine can take the place of
// PocketSphinx without the Transcriber changing.
class SpeechEngine {
public:
  virtual ~SpeechEngine() = default;
  virtual std::string name() const = 0;
  // Why the engine cannot run on this machine (an element or a model is not installed), or
  // "" when it can.
  virtual std::string Missing() const = 0;
  // The raw audio the engine takes, as caps.
  virtual std::string InputCaps() const = 0;
  // A new recogniser: a floating element with a "sink" pad for InputCaps() that consumes
  // what it is fed and posts its results as element messages. Throws AppError(Unavailable).
  virtual GstElement* Make(const std::string& name) const = 0;
  // The result that `msg` carries, or nullopt when it is not one of the engine's results.
  virtual std::optional<SpeechResult> Parse(GstMessage* msg) const = 0;

  // What atriumd transcribes with: PocketSphinx.
  static const SpeechEngine& Default();
};

// CMU PocketSphinx through the `pocketsphinx` element of Debian's gstreamer1.0-pocketsphinx,
// with the US English model of pocketsphinx-en-us; all of it offline. The element posts a
// "pocketsphinx" message {hypothesis, final, timestamp} when its guess changes, and a
// final one when its voice-activity detector hears the speaker stop.
class PocketSphinxEngine : public SpeechEngine {
public:
  static constexpr const char* kModelDir = "/usr/share/pocketsphinx/model/en-us";
  explicit PocketSphinxEngine(std::string modelDir = kModelDir) : modelDir_(std::move(modelDir)) {}

  std::string name() const override { return "pocketsphinx"; }
  std::string Missing() const override;
  std::string InputCaps() const override;
  GstElement* Make(const std::string& name) const override;
  std::optional<SpeechResult> Parse(GstMessage* msg) const override;

private:
  std::string modelDir_;
};

class Transcriber {
public:
  // What one speaker said, as it is being recognised (final = false) or once it is done.
  struct Utterance {
    std::string participantId;
    std::string streamId;
    std::string text;
    bool final = false;
    uint64_t segmentId = 0;  // per participant: 1 for its first utterance, then one more per final
    int64_t startMs = 0;     // Unix milliseconds of the speech it covers, as far as the engine tells
    int64_t endMs = 0;
  };
  class Listener {
  public:
    virtual ~Listener() = default;
    virtual void OnTranscription(const Utterance& u) = 0;
  };

  Transcriber(RoomPipeline& room, const SpeechEngine& engine, Listener& listener);
  ~Transcriber();
  Transcriber(const Transcriber&) = delete;
  Transcriber& operator=(const Transcriber&) = delete;

  // A published stream (answered, its tees exist) is transcribed from its audio track; a
  // stream without audio is ignored. The engine loads its model off the control thread,
  // so the branch joins the tee a moment later.
  void AddStream(const std::string& streamId, const std::string& participantId);
  void RemoveStream(const std::string& streamId);
  // Paused, the branches stay but drop the audio before the engine, and no result is passed on.
  void SetPaused(bool paused);
  bool paused() const { return paused_.load(); }
  size_t streamCount() const { return branches_.size(); }

  // Element messages from the room's bus (the engines' results), on the control thread.
  void OnElementMessage(GstMessage* msg);

  // Partial results of one speaker are passed on at most this often.
  static constexpr gint64 kPartialIntervalUs = 300 * 1000;

  struct Branch;

private:
  void Attach(Branch& b);
  void Detach(Branch& b);
  void Deliver(Branch& b, const SpeechResult& r);
  // Unix milliseconds of a running time of the room's pipeline.
  int64_t WallMs(GstClockTime runningTime) const;
  static void OnPrepared(GObject*, GAsyncResult* result, gpointer data);

  RoomPipeline& room_;
  const SpeechEngine& engine_;
  Listener& listener_;
  std::map<std::string, std::unique_ptr<Branch>> branches_;  // by streamId
  std::map<std::string, uint64_t> segments_;                 // participantId → its last segmentId
  // Read by the branches' pad probes on streaming threads; set on the control thread.
  std::atomic<bool> paused_{false};
  // Lets a model load that ends after this Transcriber is gone find that out.
  std::shared_ptr<Transcriber*> self_;
  uint64_t nextBranch_ = 1;
};

}  // namespace atrium::media
