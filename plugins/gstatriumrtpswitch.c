/* GStreamer
 * Copyright (C) 2026 The Atrium authors
 *
 * This library is free software; you can redistribute it and/or modify it
 * under the terms of the GNU Lesser General Public License version 2.1 or
 * later.
 */

/**
 * SECTION:element-atriumrtpswitch
 * @title: atriumrtpswitch
 *
 * Forwards one of N RTP inputs to one subscriber as a single continuous RTP
 * stream. Each request sink pad `sink_%u` takes one RTP stream: the simulcast
 * encodings of one camera (0 = smallest), or the cameras of different
 * publishers for a voice-activated view. #GstAtriumRtpSwitch:target names the
 * input the application wants; #GstAtriumRtpSwitch:active says which one is
 * forwarded now.
 *
 * A switch only happens where the new input starts a keyframe: VP8 (RFC
 * 7741: S=1, partition 0, P=0 in the VP8 payload header), VP9 (P=0 with B=1,
 * spatial layer 0) and H.264 (an IDR slice or SPS, alone, in a STAP-A/B or
 * at the start of a FU-A/B). The codec comes from the `encoding-name` of
 * each pad's caps. For any other codec the first packet after a packet with
 * the marker bit set counts as a switch point. Until the new input delivers
 * one, the old input keeps flowing, and the new input is asked for a
 * keyframe with an upstream #GstForceKeyUnit event, at most once per 300 ms
 * (of buffer running time) per input. ForceKeyUnit events from downstream
 * (a subscriber's PLI) always go to the active input: their sender limits
 * their rate (a request dropped here would leave a viewer waiting for the
 * input's next keyframe); they count against the element's own requests.
 *
 * The output carries #GstAtriumRtpSwitch:ssrc. Sequence numbers continue
 * across switches (gaps within one input are kept), RTP timestamps advance by
 * the running time between the last packet of the old input and the first of
 * the new one, and VP8 picture ids (and TL0PICIDX) continue too, in the
 * width each packet uses. Output buffers are timestamped in running time in
 * one TIME segment that starts at 0; the src caps are the active input's
 * with `ssrc` set and `clock-base`, `seqnum-base`, `timestamp-offset` and
 * `seqnum-offset` removed.
 *
 * An input stops when it has delivered no buffer for
 * #GstAtriumRtpSwitch:timeout, measured in the running time of the buffers
 * arriving on the other inputs (the inputs of one room share a clock), when
 * it is EOS or released, and before its first buffer. While the target is
 * stopped the element forwards the highest-index input below it that flows,
 * or else the lowest above it, and goes back to the target at its next
 * keyframe once it flows again.
 *
 * Every switch posts an `atrium-rtpswitch` element message with `from` (int,
 * the input forwarded before, -1 for none yet), `to` (int) and `reason`
 * ("target", "fallback" or "restore"). It is posted from the streaming thread
 * of the new input, at its keyframe, so an application handles it off the
 * bus in its main loop. When the active input ends or is released,
 * #GstAtriumRtpSwitch:active is -1 until the fallback's keyframe.
 *
 * Buffers of the inputs that are not forwarded are dropped and their
 * streaming threads get GST_FLOW_OK without waiting for downstream; only the
 * active input sees downstream's flow return (NOT_LINKED, FLUSHING, ...).
 * The src pad gets EOS when every input is EOS (releasing the last input
 * that was not EOS counts; releasing all of them does not).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m atriumrtpswitch name=s target=1 ! rtpvp8depay ! \
 *   vp8dec ! fakesink \
 *   videotestsrc is-live=true num-buffers=90 ! \
 *   video/x-raw,width=320,height=180 ! vp8enc deadline=1 ! rtpvp8pay ! \
 *   s.sink_0 \
 *   videotestsrc is-live=true num-buffers=90 pattern=ball ! \
 *   video/x-raw,width=640,height=360 ! vp8enc deadline=1 ! rtpvp8pay ! \
 *   s.sink_1
 * ]| decodes three seconds of sink_1 and prints the `atrium-rtpswitch`
 * messages: usually a "fallback" to sink_0, whose first packets arrive first,
 * then a "restore" to sink_1 at its first keyframe. The sources are live:
 * inputs that run ahead of each other in running time, as non-live sources
 * do, look stopped to one another.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstatriumrtpswitch.h"

#include <gst/rtp/gstrtpbuffer.h>
#include <gst/video/video.h>
#include <stdio.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (atrium_rtpswitch_debug);
#define GST_CAT_DEFAULT atrium_rtpswitch_debug

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS ("application/x-rtp"));
static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink_%u",
    GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS ("application/x-rtp"));

enum
{
  PROP_0,
  PROP_TARGET,
  PROP_SSRC,
  PROP_TIMEOUT,
  PROP_ACTIVE,
};

#define DEFAULT_TARGET 0
#define DEFAULT_TIMEOUT 1000
#define DEFAULT_ACTIVE -1

/* Least running time between two ForceKeyUnit events sent to one input. */
#define KEY_UNIT_INTERVAL (300 * GST_MSECOND)
/* How far behind the newest packet of the active input a late packet may be
 * and still be forwarded; older ones would reuse output sequence numbers. */
#define SEQ_WINDOW 0x1000
#define FALLBACK_CLOCK_RATE 90000

typedef enum
{
  CODEC_OTHER,
  CODEC_VP8,
  CODEC_VP9,
  CODEC_H264,
} RtpSwitchCodec;

/* What one packet's payload says. */
typedef struct
{
  gboolean keyframe;            /* starts a keyframe (or SPS for H.264) */
  gint pid_at;                  /* VP8 picture id offset in the payload, -1 */
  gboolean pid_wide;            /* 15-bit picture id */
  guint16 pid;
  gint tl0_at;                  /* VP8 TL0PICIDX offset in the payload, -1 */
  guint8 tl0;
} PayloadInfo;

/* ---- the pad ---- */

struct _GstAtriumRtpSwitchPad
{
  GstPad parent;

  guint index;

  /* All below protected by the element's object lock. */
  GstCaps *caps;
  RtpSwitchCodec codec;
  gint clock_rate;
  GstSegment segment;

  gboolean seen;                /* a buffer came since start */
  GstClockTime last_rt;         /* running time of the last buffer */
  gboolean eos;
  gboolean released;
  gboolean prev_marker;         /* the last packet had the marker bit */

  gboolean key_unit_sent;
  GstClockTime key_unit_rt;     /* when the last ForceKeyUnit went up */

  /* Mapping to the output, set when this input becomes active. */
  guint16 seq_offset;
  guint16 seq_floor;            /* older packets are dropped */
  guint32 ts_offset;
  guint16 pid_offset;
  guint8 tl0_offset;
};

G_DEFINE_TYPE (GstAtriumRtpSwitchPad, gst_atrium_rtp_switch_pad, GST_TYPE_PAD);

static void
gst_atrium_rtp_switch_pad_finalize (GObject * object)
{
  GstAtriumRtpSwitchPad *pad = GST_ATRIUM_RTP_SWITCH_PAD (object);

  gst_clear_caps (&pad->caps);
  G_OBJECT_CLASS (gst_atrium_rtp_switch_pad_parent_class)->finalize (object);
}

static void
gst_atrium_rtp_switch_pad_class_init (GstAtriumRtpSwitchPadClass * klass)
{
  G_OBJECT_CLASS (klass)->finalize = gst_atrium_rtp_switch_pad_finalize;
}

static void
pad_reset (GstAtriumRtpSwitchPad * pad)
{
  gst_segment_init (&pad->segment, GST_FORMAT_TIME);
  pad->seen = FALSE;
  pad->last_rt = GST_CLOCK_TIME_NONE;
  pad->eos = FALSE;
  pad->prev_marker = FALSE;
  pad->key_unit_sent = FALSE;
  pad->key_unit_rt = GST_CLOCK_TIME_NONE;
}

static void
gst_atrium_rtp_switch_pad_init (GstAtriumRtpSwitchPad * pad)
{
  pad->codec = CODEC_OTHER;
  pad->clock_rate = FALLBACK_CLOCK_RATE;
  pad_reset (pad);
}

/* ---- the element ---- */

struct _GstAtriumRtpSwitch
{
  GstElement parent;

  GstPad *srcpad;

  /* All below protected by the object lock. Output (events and buffers on
   * srcpad) is serialised by srcpad's stream lock, taken before the object
   * lock, so that what was decided under the lock leaves in that order.
   * Buffers that are dropped never take the stream lock. */
  guint target;
  guint32 ssrc;
  guint64 timeout;              /* ms */
  guint next_index;

  GstAtriumRtpSwitchPad *active;        /* forwarded now, or NULL */
  gint last_index;              /* input forwarded last, -1 */
  gint fallback_for;            /* target the active input stands in for */
  GstClockTime now;             /* latest running time seen on any input */

  gboolean have_output;
  guint16 last_seq;
  guint32 last_ts;
  GstClockTime last_rt;
  gboolean have_pid;
  guint16 last_pid;
  gboolean have_tl0;
  guint8 last_tl0;

  gboolean sent_stream_start;
  gboolean need_segment;
  gboolean caps_dirty;
  GstCaps *src_caps;            /* last caps sent */
  gboolean eos_sent;
};

G_DEFINE_TYPE (GstAtriumRtpSwitch, gst_atrium_rtp_switch, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (atriumrtpswitch, "atriumrtpswitch",
    GST_RANK_NONE, GST_TYPE_ATRIUM_RTP_SWITCH);

/* ---- payload parsing (pure functions of the payload) ---- */

static gboolean
parse_vp8 (const guint8 * data, guint size, PayloadInfo * info)
{
  guint at = 1;
  gboolean start;
  guint partition;

  if (size < 1)
    return FALSE;
  start = (data[0] & 0x10) != 0;
  partition = data[0] & 0x07;

  if (data[0] & 0x80) {
    guint8 ext;

    if (size < at + 1)
      return FALSE;
    ext = data[at++];
    if (ext & 0x80) {
      if (size < at + 1)
        return FALSE;
      info->pid_at = at;
      if (data[at] & 0x80) {
        if (size < at + 2)
          return FALSE;
        info->pid_wide = TRUE;
        info->pid = ((data[at] & 0x7f) << 8) | data[at + 1];
        at += 2;
      } else {
        info->pid = data[at] & 0x7f;
        at += 1;
      }
    }
    if (ext & 0x40) {
      if (size < at + 1)
        return FALSE;
      info->tl0_at = at;
      info->tl0 = data[at++];
    }
    if (ext & 0x30)             /* T or K: TID/Y/KEYIDX byte */
      at++;
  }

  /* The VP8 payload header (and its inverse key frame bit P) is only there
   * at the start of partition 0. */
  if (start && partition == 0 && size > at)
    info->keyframe = (data[at] & 0x01) == 0;
  return TRUE;
}

static void
parse_vp9 (const guint8 * data, guint size, PayloadInfo * info)
{
  guint at = 1;

  if (size < 1)
    return;
  /* |I|P|L|F|B|E|V|Z|: not inter-predicted and the start of a frame. */
  if ((data[0] & 0x40) || !(data[0] & 0x08))
    return;
  if (data[0] & 0x80) {
    if (size < at + 1)
      return;
    at += (data[at] & 0x80) ? 2 : 1;
  }
  /* With layer indices only spatial layer 0 starts the picture. */
  if (data[0] & 0x20) {
    if (size < at + 1 || ((data[at] >> 1) & 0x07) != 0)
      return;
  }
  info->keyframe = TRUE;
}

static gboolean
h264_nal_is_key (guint8 nal_header)
{
  guint8 type = nal_header & 0x1f;

  return type == 5 || type == 7;
}

static void
parse_h264 (const guint8 * data, guint size, PayloadInfo * info)
{
  guint8 type;

  if (size < 1)
    return;
  type = data[0] & 0x1f;
  if (type >= 1 && type <= 23) {
    info->keyframe = h264_nal_is_key (data[0]);
  } else if (type == 24 || type == 25) {
    /* STAP-A / STAP-B (with a DON first): 16-bit size, NAL unit, ... */
    guint at = type == 25 ? 3 : 1;

    while (at + 2 < size) {
      guint len = (data[at] << 8) | data[at + 1];

      at += 2;
      if (len == 0 || at + len > size)
        break;
      if (h264_nal_is_key (data[at])) {
        info->keyframe = TRUE;
        break;
      }
      at += len;
    }
  } else if (type == 28 || type == 29) {
    /* FU-A / FU-B: the start fragment of an IDR slice or SPS. */
    if (size >= 2 && (data[1] & 0x80))
      info->keyframe = h264_nal_is_key (data[1]);
  }
}

static void
parse_payload (RtpSwitchCodec codec, const guint8 * data, guint size,
    PayloadInfo * info)
{
  memset (info, 0, sizeof (*info));
  info->pid_at = -1;
  info->tl0_at = -1;

  switch (codec) {
    case CODEC_VP8:
      if (!parse_vp8 (data, size, info)) {
        memset (info, 0, sizeof (*info));
        info->pid_at = -1;
        info->tl0_at = -1;
      }
      break;
    case CODEC_VP9:
      parse_vp9 (data, size, info);
      break;
    case CODEC_H264:
      parse_h264 (data, size, info);
      break;
    case CODEC_OTHER:
      break;
  }
}

static RtpSwitchCodec
codec_from_caps (const GstStructure * s)
{
  const gchar *name = gst_structure_get_string (s, "encoding-name");

  if (!name)
    return CODEC_OTHER;
  if (!g_ascii_strcasecmp (name, "VP8"))
    return CODEC_VP8;
  if (!g_ascii_strcasecmp (name, "VP9"))
    return CODEC_VP9;
  if (!g_ascii_strcasecmp (name, "H264"))
    return CODEC_H264;
  return CODEC_OTHER;
}

/* ---- selection (all with the object lock held) ---- */

static gboolean
pad_is_flowing (GstAtriumRtpSwitch * self, GstAtriumRtpSwitchPad * pad)
{
  GstClockTime timeout;

  if (!pad->seen || pad->eos || pad->released)
    return FALSE;
  if (!GST_CLOCK_TIME_IS_VALID (self->now)
      || !GST_CLOCK_TIME_IS_VALID (pad->last_rt) || self->now <= pad->last_rt)
    return TRUE;
  timeout = self->timeout > G_MAXUINT64 / GST_MSECOND ? G_MAXUINT64 :
      self->timeout * GST_MSECOND;
  return self->now - pad->last_rt <= timeout;
}

/* The input to forward now: the target if it flows, else the highest below
 * it that flows, else the lowest above it; NULL when none flows. */
static GstAtriumRtpSwitchPad *
choose_wanted (GstAtriumRtpSwitch * self)
{
  GstAtriumRtpSwitchPad *below = NULL, *above = NULL;
  GList *l;

  for (l = GST_ELEMENT (self)->sinkpads; l; l = l->next) {
    GstAtriumRtpSwitchPad *pad = l->data;

    if (!pad_is_flowing (self, pad))
      continue;
    if (pad->index == self->target)
      return pad;
    if (pad->index < self->target) {
      if (!below || pad->index > below->index)
        below = pad;
    } else if (!above || pad->index < above->index) {
      above = pad;
    }
  }
  return below ? below : above;
}

/* Returns @pad (a new ref) when a ForceKeyUnit may be sent to it now, and
 * counts it as sent; NULL when one went up less than 300 ms ago. */
static GstPad *
take_key_unit_slot (GstAtriumRtpSwitch * self, GstAtriumRtpSwitchPad * pad)
{
  if (!pad || pad->released)
    return NULL;
  if (pad->key_unit_sent) {
    if (!GST_CLOCK_TIME_IS_VALID (self->now))
      return NULL;
    if (GST_CLOCK_TIME_IS_VALID (pad->key_unit_rt)
        && self->now < pad->key_unit_rt + KEY_UNIT_INTERVAL)
      return NULL;
  }
  pad->key_unit_sent = TRUE;
  pad->key_unit_rt = self->now;
  return gst_object_ref (GST_PAD (pad));
}

/* While a switch is wanted, the input switched to is asked for a keyframe. */
static GstPad *
key_unit_for_wanted (GstAtriumRtpSwitch * self)
{
  GstAtriumRtpSwitchPad *wanted = choose_wanted (self);

  if (!wanted || wanted == self->active)
    return NULL;
  return take_key_unit_slot (self, wanted);
}

static gboolean
all_inputs_eos (GstAtriumRtpSwitch * self)
{
  gboolean any = FALSE;
  GList *l;

  for (l = GST_ELEMENT (self)->sinkpads; l; l = l->next) {
    GstAtriumRtpSwitchPad *pad = l->data;

    if (pad->released)
      continue;
    if (!pad->eos)
      return FALSE;
    any = TRUE;
  }
  return any;
}

static void
send_key_unit (GstPad * pad)
{
  if (!pad)
    return;
  GST_DEBUG_OBJECT (pad, "asking for a keyframe");
  gst_pad_push_event (pad,
      gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE, TRUE,
          0));
  gst_object_unref (pad);
}

static void
post_switch (GstAtriumRtpSwitch * self, gint from, gint to,
    const gchar * reason)
{
  GstStructure *s;

  if (!reason)
    return;
  GST_INFO_OBJECT (self, "switched [from:%d] [to:%d] [reason:%s]", from, to,
      reason);
  s = gst_structure_new ("atrium-rtpswitch", "from", G_TYPE_INT, from, "to",
      G_TYPE_INT, to, "reason", G_TYPE_STRING, reason, NULL);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* ---- output ---- */

/* What has to go out on srcpad before the next buffer or EOS. */
typedef struct
{
  gboolean stream_start;
  GstCaps *caps;
  GstSegment *segment;
} PendingEvents;

static GstCaps *
make_src_caps (GstAtriumRtpSwitch * self, const GstCaps * in)
{
  GstCaps *caps = gst_caps_copy (in);
  guint i;

  for (i = 0; i < gst_caps_get_size (caps); i++) {
    GstStructure *s = gst_caps_get_structure (caps, i);

    /* The output is one source with its own numbering. */
    gst_structure_set (s, "ssrc", G_TYPE_UINT, self->ssrc, NULL);
    gst_structure_remove_fields (s, "clock-base", "seqnum-base",
        "timestamp-offset", "seqnum-offset", NULL);
  }
  return caps;
}

/* Called with the object lock held; @caps_from is the input whose caps the
 * output carries (NULL: keep what was sent). */
static void
take_pending_events (GstAtriumRtpSwitch * self,
    GstAtriumRtpSwitchPad * caps_from, PendingEvents * pending)
{
  memset (pending, 0, sizeof (*pending));

  if (!self->sent_stream_start) {
    pending->stream_start = TRUE;
    self->sent_stream_start = TRUE;
  }
  if (caps_from && caps_from->caps && (self->caps_dirty || !self->src_caps)) {
    GstCaps *caps = make_src_caps (self, caps_from->caps);

    if (!self->src_caps || !gst_caps_is_equal (caps, self->src_caps)) {
      gst_caps_replace (&self->src_caps, caps);
      pending->caps = caps;
    } else {
      gst_caps_unref (caps);
    }
    self->caps_dirty = FALSE;
  }
  /* A segment before any caps would be a misordered sticky event. */
  if (self->need_segment && self->src_caps) {
    pending->segment = gst_segment_new ();
    gst_segment_init (pending->segment, GST_FORMAT_TIME);
    self->need_segment = FALSE;
  }
}

/* Called with srcpad's stream lock, without the object lock. */
static void
push_pending_events (GstAtriumRtpSwitch * self, PendingEvents * pending)
{
  if (pending->stream_start) {
    /* gst_pad_create_stream_id() wants at most one sink pad: the output is a
     * stream of its own anyway. */
    gchar *id = g_strdup_printf ("atriumrtpswitch-%08x%08x", g_random_int (),
        g_random_int ());
    GstEvent *event = gst_event_new_stream_start (id);

    gst_event_set_group_id (event, gst_util_group_id_next ());
    gst_pad_push_event (self->srcpad, event);
    g_free (id);
  }
  if (pending->caps) {
    GST_DEBUG_OBJECT (self, "output caps [caps:%" GST_PTR_FORMAT "]",
        pending->caps);
    gst_pad_push_event (self->srcpad, gst_event_new_caps (pending->caps));
    gst_caps_unref (pending->caps);
  }
  if (pending->segment) {
    gst_pad_push_event (self->srcpad, gst_event_new_segment (pending->segment));
    gst_segment_free (pending->segment);
  }
}

/* Makes @pad the active input, its first packet being the one described;
 * returns the reason of the switch. Called with the object lock held. */
static const gchar *
switch_to (GstAtriumRtpSwitch * self, GstAtriumRtpSwitchPad * pad,
    guint16 seq, guint32 ts, GstClockTime rt, const PayloadInfo * info,
    gint * from)
{
  const gchar *reason;

  if (self->have_output) {
    guint64 delta = 1;

    if (GST_CLOCK_TIME_IS_VALID (rt) && GST_CLOCK_TIME_IS_VALID (self->last_rt)
        && rt > self->last_rt)
      delta = MAX (gst_util_uint64_scale (rt - self->last_rt,
              pad->clock_rate, GST_SECOND), 1);
    pad->seq_offset = (guint16) (self->last_seq + 1 - seq);
    pad->ts_offset = (guint32) (self->last_ts + delta - ts);
  } else {
    pad->seq_offset = 0;
    pad->ts_offset = 0;
  }
  pad->seq_floor = seq;
  pad->pid_offset = (info->pid_at >= 0 && self->have_pid) ?
      (guint16) ((self->last_pid + 1 - info->pid) & 0x7fff) : 0;
  pad->tl0_offset = (info->tl0_at >= 0 && self->have_tl0) ?
      (guint8) (self->last_tl0 + 1 - info->tl0) : 0;

  if (pad->index != self->target) {
    reason = "fallback";
    self->fallback_for = self->target;
  } else {
    reason = self->fallback_for == (gint) self->target ? "restore" : "target";
    self->fallback_for = -1;
  }
  *from = self->last_index;
  self->active = pad;
  self->last_index = pad->index;
  self->caps_dirty = TRUE;
  return reason;
}

/* Rewrites a forwarded packet (mapped writable) for the output. */
static void
rewrite_packet (GstRTPBuffer * rtp, guint32 ssrc, guint16 seq, guint32 ts,
    const PayloadInfo * info, guint16 pid, guint8 tl0)
{
  guint8 *payload;

  gst_rtp_buffer_set_ssrc (rtp, ssrc);
  gst_rtp_buffer_set_seq (rtp, seq);
  gst_rtp_buffer_set_timestamp (rtp, ts);

  payload = gst_rtp_buffer_get_payload (rtp);
  if (info->pid_at >= 0) {
    if (info->pid_wide) {
      payload[info->pid_at] = 0x80 | ((pid >> 8) & 0x7f);
      payload[info->pid_at + 1] = pid & 0xff;
    } else {
      payload[info->pid_at] = pid & 0x7f;
    }
  }
  if (info->tl0_at >= 0)
    payload[info->tl0_at] = tl0;
}

static GstClockTime
to_running_time (GstAtriumRtpSwitchPad * pad, GstClockTime ts)
{
  if (!GST_CLOCK_TIME_IS_VALID (ts))
    return GST_CLOCK_TIME_NONE;
  return gst_segment_to_running_time (&pad->segment, GST_FORMAT_TIME, ts);
}

static GstFlowReturn
gst_atrium_rtp_switch_chain (GstPad * pad, GstObject * parent,
    GstBuffer * buf)
{
  GstAtriumRtpSwitch *self = GST_ATRIUM_RTP_SWITCH (parent);
  GstAtriumRtpSwitchPad *spad = GST_ATRIUM_RTP_SWITCH_PAD (pad);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  PendingEvents pending = { FALSE, NULL, NULL };
  GstFlowReturn ret = GST_FLOW_OK;
  GstPad *key_unit = NULL;
  const gchar *reason = NULL;
  gboolean forward = FALSE;
  PayloadInfo info;
  GstClockTime rt, pts, dts;
  guint16 seq, out_seq = 0, out_pid = 0;
  guint32 ts, out_ts = 0, ssrc = 0;
  guint8 out_tl0 = 0;
  gboolean marker, switch_point;
  gint from = -1, to = -1;

  if (!gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp)) {
    GST_DEBUG_OBJECT (pad, "dropping a buffer that is not RTP");
    gst_buffer_unref (buf);
    return GST_FLOW_OK;
  }
  seq = gst_rtp_buffer_get_seq (&rtp);
  ts = gst_rtp_buffer_get_timestamp (&rtp);
  marker = gst_rtp_buffer_get_marker (&rtp);

  /* First, without the output lock: note the buffer's time and drop it if
   * it cannot be forwarded, so that inputs which are not forwarded never
   * wait for downstream. */
  GST_OBJECT_LOCK (self);
  if (!spad->caps) {
    GST_OBJECT_UNLOCK (self);
    gst_rtp_buffer_unmap (&rtp);
    gst_buffer_unref (buf);
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
        ("buffer before caps [pad:%s]", GST_PAD_NAME (pad)));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  parse_payload (spad->codec, gst_rtp_buffer_get_payload (&rtp),
      gst_rtp_buffer_get_payload_len (&rtp), &info);
  gst_rtp_buffer_unmap (&rtp);

  pts = to_running_time (spad, GST_BUFFER_PTS (buf));
  dts = to_running_time (spad, GST_BUFFER_DTS (buf));
  rt = GST_CLOCK_TIME_IS_VALID (pts) ? pts : dts;
  if (GST_CLOCK_TIME_IS_VALID (rt) && (!GST_CLOCK_TIME_IS_VALID (self->now)
          || rt > self->now))
    self->now = rt;
  spad->seen = TRUE;
  spad->last_rt = GST_CLOCK_TIME_IS_VALID (rt) ? rt : self->now;

  switch_point = spad->codec == CODEC_OTHER ? spad->prev_marker : info.keyframe;
  spad->prev_marker = marker;

  if (spad->released || (spad != self->active && (!switch_point
              || spad != choose_wanted (self)))) {
    if (!spad->released)
      key_unit = key_unit_for_wanted (self);
    GST_OBJECT_UNLOCK (self);
    gst_buffer_unref (buf);
    send_key_unit (key_unit);
    return GST_FLOW_OK;
  }
  GST_OBJECT_UNLOCK (self);

  /* Then in output order: decide again, another input may have switched. */
  GST_PAD_STREAM_LOCK (self->srcpad);
  GST_OBJECT_LOCK (self);
  if (!spad->released) {
    if (spad == self->active) {
      forward = TRUE;
    } else if (switch_point && spad == choose_wanted (self)) {
      reason = switch_to (self, spad, seq, ts, rt, &info, &from);
      to = spad->index;
      forward = TRUE;
    }
    key_unit = key_unit_for_wanted (self);
  }

  if (forward && (gint16) (seq - spad->seq_floor) < 0) {
    GST_LOG_OBJECT (pad, "dropping a late packet [seq:%u]", seq);
    forward = FALSE;
  }
  if (forward) {
    out_seq = seq + spad->seq_offset;
    out_ts = ts + spad->ts_offset;
    ssrc = self->ssrc;
    if ((gint16) (seq - spad->seq_floor) > SEQ_WINDOW)
      spad->seq_floor = seq - SEQ_WINDOW;
    if (info.pid_at >= 0)
      out_pid = (info.pid + spad->pid_offset) & (info.pid_wide ? 0x7fff : 0x7f);
    if (info.tl0_at >= 0)
      out_tl0 = info.tl0 + spad->tl0_offset;

    /* Only the newest packet carries the output forward: a late one must not
     * make the next switch reuse its numbers. */
    if (!self->have_output || (gint16) (out_seq - self->last_seq) > 0) {
      self->have_output = TRUE;
      self->last_seq = out_seq;
      self->last_ts = out_ts;
      self->last_rt = rt;
      if (info.pid_at >= 0) {
        self->have_pid = TRUE;
        self->last_pid = out_pid;
      }
      if (info.tl0_at >= 0) {
        self->have_tl0 = TRUE;
        self->last_tl0 = out_tl0;
      }
    }
    take_pending_events (self, spad, &pending);
  }
  GST_OBJECT_UNLOCK (self);

  if (forward) {
    push_pending_events (self, &pending);

    buf = gst_buffer_make_writable (buf);
    if (gst_rtp_buffer_map (buf, GST_MAP_READWRITE, &rtp)) {
      rewrite_packet (&rtp, ssrc, out_seq, out_ts, &info, out_pid, out_tl0);
      gst_rtp_buffer_unmap (&rtp);
      GST_BUFFER_PTS (buf) = pts;
      GST_BUFFER_DTS (buf) = dts;
      ret = gst_pad_push (self->srcpad, buf);
    } else {
      gst_buffer_unref (buf);
    }
  } else {
    gst_buffer_unref (buf);
  }
  GST_PAD_STREAM_UNLOCK (self->srcpad);

  send_key_unit (key_unit);
  post_switch (self, from, to, reason);
  if (ret != GST_FLOW_OK)
    GST_DEBUG_OBJECT (pad, "push [flow:%s]", gst_flow_get_name (ret));
  return ret;
}

/* Sends EOS on srcpad once every input is EOS. Called without locks. */
static void
push_eos_if_all_done (GstAtriumRtpSwitch * self)
{
  PendingEvents pending;
  gboolean done;

  /* Most calls end here, without waiting for a push in progress. */
  GST_OBJECT_LOCK (self);
  done = !self->eos_sent && all_inputs_eos (self);
  GST_OBJECT_UNLOCK (self);
  if (!done)
    return;

  GST_PAD_STREAM_LOCK (self->srcpad);
  GST_OBJECT_LOCK (self);
  done = !self->eos_sent && all_inputs_eos (self);
  if (done) {
    self->eos_sent = TRUE;
    take_pending_events (self, self->active, &pending);
  }
  GST_OBJECT_UNLOCK (self);
  if (done) {
    GST_DEBUG_OBJECT (self, "every input is EOS");
    push_pending_events (self, &pending);
    gst_pad_push_event (self->srcpad, gst_event_new_eos ());
  }
  GST_PAD_STREAM_UNLOCK (self->srcpad);
}

static gboolean
gst_atrium_rtp_switch_sink_event (GstPad * pad, GstObject * parent,
    GstEvent * event)
{
  GstAtriumRtpSwitch *self = GST_ATRIUM_RTP_SWITCH (parent);
  GstAtriumRtpSwitchPad *spad = GST_ATRIUM_RTP_SWITCH_PAD (pad);
  gboolean is_active;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;
      const GstStructure *s;
      gint clock_rate = FALLBACK_CLOCK_RATE;

      gst_event_parse_caps (event, &caps);
      s = gst_caps_get_structure (caps, 0);
      if (!gst_structure_get_int (s, "clock-rate", &clock_rate)
          || clock_rate <= 0) {
        GST_WARNING_OBJECT (pad, "caps without clock-rate, using %d",
            FALLBACK_CLOCK_RATE);
        clock_rate = FALLBACK_CLOCK_RATE;
      }
      GST_OBJECT_LOCK (self);
      gst_caps_replace (&spad->caps, caps);
      spad->codec = codec_from_caps (s);
      spad->clock_rate = clock_rate;
      if (self->active == spad)
        self->caps_dirty = TRUE;
      GST_OBJECT_UNLOCK (self);
      GST_DEBUG_OBJECT (pad, "input caps [caps:%" GST_PTR_FORMAT "]", caps);
      gst_event_unref (event);
      return TRUE;
    }
    case GST_EVENT_SEGMENT:{
      const GstSegment *segment;

      gst_event_parse_segment (event, &segment);
      if (segment->format != GST_FORMAT_TIME) {
        GST_ELEMENT_ERROR (self, STREAM, FORMAT, (NULL),
            ("segment not in TIME format [pad:%s] [format:%s]",
                GST_PAD_NAME (pad), gst_format_get_name (segment->format)));
        gst_event_unref (event);
        return FALSE;
      }
      GST_OBJECT_LOCK (self);
      gst_segment_copy_into (segment, &spad->segment);
      GST_OBJECT_UNLOCK (self);
      gst_event_unref (event);
      return TRUE;
    }
    case GST_EVENT_STREAM_START:
      /* A new stream on an input that had ended: the output goes on too. */
      GST_OBJECT_LOCK (self);
      if (spad->eos) {
        spad->eos = FALSE;
        if (self->eos_sent) {
          self->eos_sent = FALSE;
          self->sent_stream_start = FALSE;
          self->need_segment = TRUE;
          self->caps_dirty = TRUE;
        }
      }
      GST_OBJECT_UNLOCK (self);
      gst_event_unref (event);
      return TRUE;
    case GST_EVENT_EOS:{
      GstPad *key_unit;

      GST_OBJECT_LOCK (self);
      spad->eos = TRUE;
      if (self->active == spad) {
        GST_DEBUG_OBJECT (pad, "active input ended");
        self->active = NULL;
      }
      key_unit = key_unit_for_wanted (self);
      GST_OBJECT_UNLOCK (self);
      gst_event_unref (event);
      send_key_unit (key_unit);
      push_eos_if_all_done (self);
      return TRUE;
    }
    case GST_EVENT_FLUSH_START:
      GST_OBJECT_LOCK (self);
      is_active = self->active == spad;
      GST_OBJECT_UNLOCK (self);
      if (is_active)
        return gst_pad_push_event (self->srcpad, event);
      gst_event_unref (event);
      return TRUE;
    case GST_EVENT_FLUSH_STOP:{
      gboolean ret = TRUE;

      GST_PAD_STREAM_LOCK (self->srcpad);
      GST_OBJECT_LOCK (self);
      pad_reset (spad);
      is_active = self->active == spad;
      if (is_active) {
        self->need_segment = TRUE;
        self->eos_sent = FALSE;
      }
      GST_OBJECT_UNLOCK (self);
      if (is_active)
        ret = gst_pad_push_event (self->srcpad, event);
      else
        gst_event_unref (event);
      GST_PAD_STREAM_UNLOCK (self->srcpad);
      return ret;
    }
    default:
      break;
  }

  /* Other sticky events (tags, ...) describe one input, not the output; gaps
   * and lost-packet events are in the input's timeline and numbering. */
  if (GST_EVENT_IS_STICKY (event) || GST_EVENT_TYPE (event) == GST_EVENT_GAP
      || gst_event_has_name (event, "GstRTPPacketLost")) {
    gst_event_unref (event);
    return TRUE;
  }

  {
    gboolean serialized = GST_EVENT_IS_SERIALIZED (event);
    gboolean ret = TRUE;

    if (serialized)
      GST_PAD_STREAM_LOCK (self->srcpad);
    GST_OBJECT_LOCK (self);
    is_active = self->active == spad;
    GST_OBJECT_UNLOCK (self);
    if (is_active)
      ret = gst_pad_push_event (self->srcpad, event);
    else
      gst_event_unref (event);
    if (serialized)
      GST_PAD_STREAM_UNLOCK (self->srcpad);
    return ret;
  }
}

static gboolean
gst_atrium_rtp_switch_src_event (GstPad * pad, GstObject * parent,
    GstEvent * event)
{
  GstAtriumRtpSwitch *self = GST_ATRIUM_RTP_SWITCH (parent);

  if (gst_video_event_is_force_key_unit (event)) {
    GstPad *to;

    /* The subscriber lost something: a keyframe from what it gets now (or
     * from the input about to be forwarded, which is asked for one anyway).
     * A request from downstream always goes up: whoever sends them limits
     * their rate (a request dropped here would leave a viewer waiting for the
     * sender's next keyframe); it still counts against the element's own. */
    GstAtriumRtpSwitchPad *target;

    GST_OBJECT_LOCK (self);
    target = self->active ? self->active : choose_wanted (self);
    to = take_key_unit_slot (self, target);
    if (!to && target && !target->released)
      to = gst_object_ref (GST_PAD (target));
    GST_OBJECT_UNLOCK (self);
    if (!to) {
      GST_LOG_OBJECT (self, "keyframe request dropped (no input)");
      gst_event_unref (event);
      return TRUE;
    }
    GST_DEBUG_OBJECT (to, "forwarding a keyframe request");
    {
      gboolean ret = gst_pad_push_event (to, event);

      gst_object_unref (to);
      return ret;
    }
  }
  return gst_pad_event_default (pad, parent, event);
}

static GstPad *
gst_atrium_rtp_switch_request_new_pad (GstElement * element,
    GstPadTemplate * templ, const gchar * req_name, const GstCaps * caps)
{
  GstAtriumRtpSwitch *self = GST_ATRIUM_RTP_SWITCH (element);
  GstAtriumRtpSwitchPad *spad;
  GstPad *pad;
  guint index;
  gchar *name;
  GList *l;

  GST_OBJECT_LOCK (self);
  if (req_name && sscanf (req_name, "sink_%u", &index) == 1) {
    for (l = element->sinkpads; l; l = l->next) {
      if (GST_ATRIUM_RTP_SWITCH_PAD (l->data)->index == index) {
        GST_OBJECT_UNLOCK (self);
        GST_WARNING_OBJECT (self, "pad exists [name:%s]", req_name);
        return NULL;
      }
    }
  } else {
    index = self->next_index;
  }
  if (index >= self->next_index)
    self->next_index = index + 1;
  GST_OBJECT_UNLOCK (self);

  name = g_strdup_printf ("sink_%u", index);
  pad = g_object_new (GST_TYPE_ATRIUM_RTP_SWITCH_PAD, "name", name,
      "direction", GST_PAD_SINK, "template", templ, NULL);
  g_free (name);
  spad = GST_ATRIUM_RTP_SWITCH_PAD (pad);
  spad->index = index;
  gst_pad_set_chain_function (pad,
      GST_DEBUG_FUNCPTR (gst_atrium_rtp_switch_chain));
  gst_pad_set_event_function (pad,
      GST_DEBUG_FUNCPTR (gst_atrium_rtp_switch_sink_event));
  if (GST_STATE (element) > GST_STATE_READY
      || GST_STATE_TARGET (element) > GST_STATE_READY)
    gst_pad_set_active (pad, TRUE);
  if (!gst_element_add_pad (element, pad)) {
    gst_object_unref (pad);
    return NULL;
  }
  GST_DEBUG_OBJECT (self, "new input [pad:%s]", GST_PAD_NAME (pad));
  return pad;
}

static void
gst_atrium_rtp_switch_release_pad (GstElement * element, GstPad * pad)
{
  GstAtriumRtpSwitch *self = GST_ATRIUM_RTP_SWITCH (element);
  GstAtriumRtpSwitchPad *spad = GST_ATRIUM_RTP_SWITCH_PAD (pad);
  GstPad *key_unit;

  GST_DEBUG_OBJECT (self, "input released [pad:%s]", GST_PAD_NAME (pad));
  GST_OBJECT_LOCK (self);
  spad->released = TRUE;
  if (self->active == spad)
    self->active = NULL;
  key_unit = key_unit_for_wanted (self);
  GST_OBJECT_UNLOCK (self);

  /* Waits for a buffer in flight on this pad. */
  gst_pad_set_active (pad, FALSE);
  gst_element_remove_pad (element, pad);

  send_key_unit (key_unit);
  push_eos_if_all_done (self);
}

static void
gst_atrium_rtp_switch_reset (GstAtriumRtpSwitch * self)
{
  GList *l;

  GST_OBJECT_LOCK (self);
  self->active = NULL;
  self->last_index = -1;
  self->fallback_for = -1;
  self->now = GST_CLOCK_TIME_NONE;
  self->have_output = FALSE;
  self->last_rt = GST_CLOCK_TIME_NONE;
  self->have_pid = FALSE;
  self->have_tl0 = FALSE;
  self->sent_stream_start = FALSE;
  self->need_segment = TRUE;
  self->caps_dirty = TRUE;
  gst_clear_caps (&self->src_caps);
  self->eos_sent = FALSE;
  for (l = GST_ELEMENT (self)->sinkpads; l; l = l->next)
    pad_reset (l->data);
  GST_OBJECT_UNLOCK (self);
}

static GstStateChangeReturn
gst_atrium_rtp_switch_change_state (GstElement * element,
    GstStateChange transition)
{
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED)
    gst_atrium_rtp_switch_reset (GST_ATRIUM_RTP_SWITCH (element));
  return
      GST_ELEMENT_CLASS (gst_atrium_rtp_switch_parent_class)->change_state
      (element, transition);
}

static void
gst_atrium_rtp_switch_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstAtriumRtpSwitch *self = GST_ATRIUM_RTP_SWITCH (object);
  GstPad *key_unit = NULL;

  switch (prop_id) {
    case PROP_TARGET:
      GST_OBJECT_LOCK (self);
      if (self->target != g_value_get_uint (value)) {
        self->target = g_value_get_uint (value);
        self->fallback_for = -1;
        GST_DEBUG_OBJECT (self, "new target [index:%u]", self->target);
        key_unit = key_unit_for_wanted (self);
      }
      GST_OBJECT_UNLOCK (self);
      send_key_unit (key_unit);
      break;
    case PROP_SSRC:
      GST_OBJECT_LOCK (self);
      self->ssrc = g_value_get_uint (value);
      self->caps_dirty = TRUE;
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_TIMEOUT:
      GST_OBJECT_LOCK (self);
      self->timeout = g_value_get_uint64 (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_atrium_rtp_switch_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstAtriumRtpSwitch *self = GST_ATRIUM_RTP_SWITCH (object);

  switch (prop_id) {
    case PROP_TARGET:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->target);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_SSRC:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->ssrc);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_TIMEOUT:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->timeout);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_ACTIVE:
      GST_OBJECT_LOCK (self);
      g_value_set_int (value, self->active ? (gint) self->active->index :
          DEFAULT_ACTIVE);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_atrium_rtp_switch_finalize (GObject * object)
{
  GstAtriumRtpSwitch *self = GST_ATRIUM_RTP_SWITCH (object);

  gst_clear_caps (&self->src_caps);
  G_OBJECT_CLASS (gst_atrium_rtp_switch_parent_class)->finalize (object);
}

static void
gst_atrium_rtp_switch_class_init (GstAtriumRtpSwitchClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (atrium_rtpswitch_debug, "atrium-rtpswitch", 0,
      "Atrium RTP stream switch");

  gobject_class->set_property = gst_atrium_rtp_switch_set_property;
  gobject_class->get_property = gst_atrium_rtp_switch_get_property;
  gobject_class->finalize = gst_atrium_rtp_switch_finalize;

  g_object_class_install_property (gobject_class, PROP_TARGET,
      g_param_spec_uint ("target", "Target",
          "Index of the sink pad to forward (sink_<index>); switched to at "
          "its next keyframe", 0, G_MAXUINT, DEFAULT_TARGET,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_SSRC,
      g_param_spec_uint ("ssrc", "SSRC",
          "SSRC of the output (random by default)", 0, G_MAXUINT32, 0,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_TIMEOUT,
      g_param_spec_uint64 ("timeout", "Timeout",
          "An input without a buffer for this long (milliseconds of the "
          "running time of the other inputs' buffers) has stopped", 0,
          G_MAXUINT64, DEFAULT_TIMEOUT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_ACTIVE,
      g_param_spec_int ("active", "Active",
          "Index of the sink pad forwarded now, -1 for none", -1, G_MAXINT,
          DEFAULT_ACTIVE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &sink_template, GST_TYPE_ATRIUM_RTP_SWITCH_PAD);
  gst_element_class_set_static_metadata (element_class,
      "RTP stream switch", "Filter/Network/RTP",
      "Forwards one of N RTP streams as one continuous stream, switching at "
      "keyframes", "The Atrium authors");

  element_class->request_new_pad =
      GST_DEBUG_FUNCPTR (gst_atrium_rtp_switch_request_new_pad);
  element_class->release_pad =
      GST_DEBUG_FUNCPTR (gst_atrium_rtp_switch_release_pad);
  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_atrium_rtp_switch_change_state);

  gst_type_mark_as_plugin_api (GST_TYPE_ATRIUM_RTP_SWITCH_PAD, 0);
}

static void
gst_atrium_rtp_switch_init (GstAtriumRtpSwitch * self)
{
  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_event_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_atrium_rtp_switch_src_event));
  gst_pad_use_fixed_caps (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  self->target = DEFAULT_TARGET;
  self->ssrc = g_random_int ();
  self->timeout = DEFAULT_TIMEOUT;
  self->last_index = -1;
  self->fallback_for = -1;
  self->now = GST_CLOCK_TIME_NONE;
  self->last_rt = GST_CLOCK_TIME_NONE;
  self->need_segment = TRUE;
  self->caps_dirty = TRUE;
}
