// The MCU branch of a room: decodes each published track once, composes the video with
// compositor and mixes the audio with atriumaudiomixminus, encodes the composite once
// (per the MCU profile) and each participant's mix-minus once, and offers the results
// to RoomPipeline as local sources that play like published streams ("mix" for the
// full mix, one per participant who plays it). Owned by the room's Conference, on the
// control thread; it hangs off RoomPipeline's per-track tees and never rewires them.
#pragma once

#include "media/ActiveSpeaker.hpp"
#include "media/Layout.hpp"
#include "media/McuProfile.hpp"
#include "media/RoomPipeline.hpp"

#include <gst/gst.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace atrium::media {

class Mixer {
public:
  class Listener {
  public:
    virtual ~Listener() = default;
    // A participant's audio level (dBFS), about every 100 ms while it publishes audio.
    virtual void OnMixerLevel(const std::string& participantId, double levelDb) = 0;
  };

  Mixer(RoomPipeline& room, const McuProfile& profile, const std::string& definition, Listener& listener);
  ~Mixer();
  Mixer(const Mixer&) = delete;
  Mixer& operator=(const Mixer&) = delete;

  // A participant gets a tile (a placeholder with its name until its camera arrives).
  void AddParticipant(const std::string& participantId, const std::string& name);
  void RemoveParticipant(const std::string& participantId);
  // A published stream (answered, its tees exist) feeds the mix: its video is decoded
  // into the participant's tile (kind "screen": a tile of its own), its audio into the
  // participant's mix-minus input.
  void AddStream(const std::string& streamId, const std::string& participantId, const std::string& kind);
  void RemoveStream(const std::string& streamId);
  // The RoomPipeline source a participant plays for "mix": the composite with everyone's
  // audio but its own. Built on first use.
  std::string SourceFor(const std::string& participantId);

  void SetLayout(LayoutSpec spec);
  const LayoutSpec& layout() const { return layout_; }
  // Who the speaker layout features (hysteresis is the caller's).
  void SetSpeaker(const std::string& participantId);
  const MixFormat& format() const { return format_; }

  // Element messages from the room's bus (levels).
  void OnElementMessage(GstMessage* msg);

  static constexpr const char* kFullMixSource = "mix";

  struct Tile;
  struct Slot;
  struct Input;

private:
  Tile* TileOf(const std::string& tileId);
  Slot& SlotOf(const std::string& participantId);
  void NewTile(const std::string& tileId, const std::string& participantId, const std::string& name, bool screen);
  void DropTile(const std::string& tileId);
  void Relayout();
  void RemoveInput(Input& in);
  GstElement* Add(const char* factory, const std::string& name = {});

  RoomPipeline& room_;
  const McuProfile& profile_;
  Listener& listener_;
  MixFormat format_;
  GstElement* pipeline_ = nullptr;
  GstElement* compositor_ = nullptr;
  GstElement* mixminus_ = nullptr;
  GstElement* videoTee_ = nullptr;
  GstElement* audioTee_ = nullptr;  // the full mix
  Codec videoCodec_, audioCodec_;
  std::vector<GstElement*> fixed_;   // the mixer's own elements, removed at the end
  std::map<std::string, std::string> names_;  // participantId → display name
  std::vector<std::unique_ptr<Tile>> tiles_;  // in join order
  std::map<std::string, std::unique_ptr<Slot>> slots_;  // by participant
  std::vector<std::unique_ptr<Slot>> freeSlots_;  // mixer pads are reused, never released
  std::map<std::string, std::unique_ptr<Input>> inputs_;  // by streamId + kind
  unsigned nextSlot_ = 1;  // sink_0 is the silence bed
  LayoutSpec layout_;
  std::string speaker_;
  ActiveSpeaker speakers_;
};

}  // namespace atrium::media
