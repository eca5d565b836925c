// Video filters on published streams (filter.apply): the stream's video is decoded once,
// passed through one of Atrium's OpenCV elements (atriumfacedetect, atriummotiondetect)
// and encoded again in the same codec (pipelines/transcode.conf), and that copy replaces
// the publisher's own video for every consumer (subscribers, mixer, recorders) through the
// track's input switch. The elements' messages become events for the room. Owned by the
// room's Conference, on the control thread.
#pragma once

#include "media/RoomPipeline.hpp"
#include "media/TranscodeProfile.hpp"

#include <gst/gst.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>

namespace atrium::media {

class Filters {
public:
  Filters(RoomPipeline& room, const TranscodeProfile& profile) : room_(room), profile_(profile) {}
  ~Filters();
  Filters(const Filters&) = delete;
  Filters& operator=(const Filters&) = delete;

  // The filters there are and their params, for errors and docs.
  static const char* const kNames[];

  // Puts `filter` ("face", "motion") with `params` on the stream's video, replacing a
  // filter it has. Throws InvalidParams (unknown filter, bad params: data.param names it),
  // AppError Conflict (no single-encoding video: none, or simulcast), Unavailable (the
  // element or its data cannot start).
  void Apply(const std::string& streamId, const std::string& filter, const nlohmann::json& params);
  // False when the stream had no filter.
  bool Remove(const std::string& streamId);
  // The stream is about to go.
  void DropSource(const std::string& streamId) { Remove(streamId); }
  // {"filter", "params"} of the stream's filter, or null.
  nlohmann::json Describe(const std::string& streamId) const;

  struct Event {
    std::string streamId, filter;
    nlohmann::json data;
  };
  // A message of one of our filter elements, as an event; nullopt for anything else.
  std::optional<Event> OnElementMessage(GstMessage* msg);
  // Called when a filter broke while running (it is removed first).
  std::function<void(const std::string& streamId, const std::string& reason)> onFailed;

private:
  struct Filter {
    std::string name;
    nlohmann::json params;
    GstElement* tee = nullptr;      // the stream's input tee
    GstPad* teePad = nullptr;
    GstElement* bin = nullptr;
    GstPad* switchPad = nullptr;
  };
  RoomPipeline& room_;
  const TranscodeProfile& profile_;
  std::map<std::string, Filter> filters_;  // by streamId
};

}  // namespace atrium::media
