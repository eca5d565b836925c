#include "media/Elements.hpp"

#include "core/Error.hpp"
#include "core/Log.hpp"

#define GST_CAT_DEFAULT atrium_media_debug

namespace atrium::media {

namespace {

GstFlowReturn MaskedChain(GstPad* pad, GstObject* parent, GstBuffer* buffer) {
  GstFlowReturn r = gst_proxy_pad_chain_default(pad, parent, buffer);
  if (r != GST_FLOW_OK && r != GST_FLOW_FLUSHING && r != GST_FLOW_NOT_LINKED)
    GST_DEBUG_OBJECT(pad, "branch refused data [flow:%s]", gst_flow_get_name(r));
  return GST_FLOW_OK;
}

GstFlowReturn MaskedChainList(GstPad* pad, GstObject* parent, GstBufferList* list) {
  gst_proxy_pad_chain_list_default(pad, parent, list);
  return GST_FLOW_OK;
}

GstClockTime ToRunning(const GstSegment* seg, GstClockTime t) {
  if (!GST_CLOCK_TIME_IS_VALID(t)) return t;
  guint64 out = 0;
  int sign = gst_segment_to_running_time_full(seg, GST_FORMAT_TIME, t, &out);
  return sign > 0 ? out : 0;
}

GstPadProbeReturn RunningTimeProbe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* seg = static_cast<GstSegment*>(data);
  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(ev) != GST_EVENT_SEGMENT) return GST_PAD_PROBE_OK;
    const GstSegment* in = nullptr;
    gst_event_parse_segment(ev, &in);
    if (in && in->format == GST_FORMAT_TIME) gst_segment_copy_into(in, seg);
    GstSegment plain;
    gst_segment_init(&plain, GST_FORMAT_TIME);
    GstEvent* out = gst_event_new_segment(&plain);
    gst_event_set_seqnum(out, gst_event_get_seqnum(ev));
    gst_event_unref(ev);
    GST_PAD_PROBE_INFO_DATA(info) = out;
    return GST_PAD_PROBE_OK;
  }
  if (seg->format != GST_FORMAT_TIME) return GST_PAD_PROBE_OK;
  auto fix = [seg](GstBuffer* b) {
    GST_BUFFER_PTS(b) = ToRunning(seg, GST_BUFFER_PTS(b));
    GST_BUFFER_DTS(b) = ToRunning(seg, GST_BUFFER_DTS(b));
  };
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer* b = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
    fix(b);
    GST_PAD_PROBE_INFO_DATA(info) = b;
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList* list = gst_buffer_list_make_writable(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
    for (guint i = 0; i < gst_buffer_list_length(list); ++i) fix(gst_buffer_list_get_writable(list, i));
    GST_PAD_PROBE_INFO_DATA(info) = list;
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace

void NormalizeToRunningTime(GstPad* pad) {
  GstSegment* seg = gst_segment_new();
  gst_segment_init(seg, GST_FORMAT_UNDEFINED);
  gst_pad_add_probe(pad,
                    GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST |
                                    GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                    RunningTimeProbe, seg, [](gpointer p) { gst_segment_free(static_cast<GstSegment*>(p)); });
}

GstElement* MakeElement(const char* factory) {
  GstElement* e = gst_element_factory_make(factory, nullptr);
  if (!e) throw AppError(ErrorCode::Unavailable, std::string("GStreamer element missing: ") + factory);
  return e;
}

GstElement* LeakyQueue(guint buffers) {
  GstElement* q = MakeElement("queue");
  g_object_set(q, "max-size-buffers", buffers, "max-size-bytes", 0u, "max-size-time", guint64(0), nullptr);
  gst_util_set_object_arg(G_OBJECT(q), "leaky", "downstream");
  return q;
}

GstElement* CapsFilter(const std::string& caps) {
  GstElement* f = MakeElement("capsfilter");
  GstCaps* c = gst_caps_from_string(caps.c_str());
  g_object_set(f, "caps", c, nullptr);
  gst_caps_unref(c);
  return f;
}

GstElement* ChainBin(const std::string& name, const std::vector<GstElement*>& elements, bool maskSink) {
  GstElement* bin = gst_bin_new(name.c_str());
  for (auto* e : elements) gst_bin_add(GST_BIN(bin), e);
  for (size_t i = 0; i + 1 < elements.size(); ++i)
    if (!gst_element_link(elements[i], elements[i + 1]))
      GST_WARNING("cannot link %s to %s", GST_OBJECT_NAME(elements[i]), GST_OBJECT_NAME(elements[i + 1]));
  if (GstPad* in = gst_element_get_static_pad(elements.front(), "sink")) {
    GstPad* ghost = gst_ghost_pad_new("sink", in);
    if (maskSink) {
      gst_pad_set_chain_function(ghost, MaskedChain);
      gst_pad_set_chain_list_function(ghost, MaskedChainList);
    }
    gst_element_add_pad(bin, ghost);
    gst_object_unref(in);
  }
  if (GstPad* out = gst_element_get_static_pad(elements.back(), "src")) {
    gst_element_add_pad(bin, gst_ghost_pad_new("src", out));
    gst_object_unref(out);
  }
  return bin;
}

void SetIfPresent(GstElement* e, const char* property, gboolean value) {
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(e), property)) g_object_set(e, property, value, nullptr);
}

}  // namespace atrium::media
