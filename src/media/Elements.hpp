// Small builders shared by the branches Atrium hangs off a room's tees (mixer inputs,
// transcoders): elements that must exist, leaky queues, and bins of elements in a row
// whose entry never passes a downstream error back into the tee that feeds it.
#pragma once

#include <gst/gst.h>

#include <string>
#include <vector>

namespace atrium::media {

// A new element (floating). Throws AppError(Unavailable) naming a missing factory.
GstElement* MakeElement(const char* factory);
// queue leaky=downstream holding at most `buffers` buffers.
GstElement* LeakyQueue(guint buffers);
GstElement* CapsFilter(const std::string& caps);
// A bin of `elements` linked in a row, with ghost pads "sink" (when the first element has
// a sink pad) and "src". With `maskSink` the entry reports GST_FLOW_OK whatever happens
// downstream, so that a branch that fails stops alone and never its publisher's tee.
GstElement* ChainBin(const std::string& name, const std::vector<GstElement*>& elements, bool maskSink);
// Rewrites what leaves `pad` to running time: each buffer's PTS/DTS become running times
// of the segment they came in, and that segment becomes a plain [0, ∞) TIME segment, as
// on webrtcbin's own src pads. Encoders shift their output segment (GstVideoEncoder by
// 1000 h); consumers of a tee expect the running time webrtcbin gives.
void NormalizeToRunningTime(GstPad* pad);
// Sets a property only where the element has it (properties that came with later 1.2x).
void SetIfPresent(GstElement* e, const char* property, gboolean value);

}  // namespace atrium::media
