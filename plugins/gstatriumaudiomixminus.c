/* GStreamer
 * Copyright (C) 2026 The Atrium authors
 *
 * This library is free software; you can redistribute it and/or modify it
 * under the terms of the GNU Lesser General Public License version 2.1 or
 * later.
 */

/**
 * SECTION:element-atriumaudiomixminus
 * @title: atriumaudiomixminus
 *
 * Mixes N audio inputs for a conference where everyone hears everyone but
 * themselves. Each request sink pad `sink_%u` comes with a source pad
 * `src_%u` that carries the sum of all inputs minus that pad's own input; the
 * always `src` pad carries the whole sum (for recording). The sum is taken
 * once and each input is subtracted from it, so the cost is O(N) in the
 * number of inputs rather than the O(N²) of one audiomixer per listener.
 *
 * Timing (live inputs, inputs that start late or stop, segment and latency
 * handling) comes from #GstAudioAggregator. Samples are summed in a wider
 * type and clipped once per output. Inputs are converted to the output
 * format by their pads (#GstAudioAggregatorConvertPad).
 *
 * With #GstAtriumAudioMixMinus:level-interval set, the element posts an
 * `atrium-audio-level` element message per input and interval with the
 * input's RMS level in dBFS (fields `pad`, `index`, `rms-db`).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 atriumaudiomixminus name=m \
 *   audiotestsrc freq=440 ! m.sink_0 \
 *   audiotestsrc freq=660 ! m.sink_1 \
 *   m.src_0 ! queue ! audioconvert ! autoaudiosink \
 *   m.src_1 ! queue ! fakesink  m.src ! queue ! fakesink
 * ]| plays 660 Hz: what the speaker on sink_0 hears. All outputs are pushed
 * from one thread, so each needs a queue when its sink may block (preroll).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstatriumaudiomixminus.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (atrium_mixminus_debug);
#define GST_CAT_DEFAULT atrium_mixminus_debug

#define MIXMINUS_CAPS \
  "audio/x-raw, format = (string) { " GST_AUDIO_NE (S16) ", " \
  GST_AUDIO_NE (F32) " }, rate = (int) [ 1, MAX ], " \
  "channels = (int) [ 1, MAX ], layout = (string) interleaved"

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (MIXMINUS_CAPS));
static GstStaticPadTemplate minus_src_template =
GST_STATIC_PAD_TEMPLATE ("src_%u", GST_PAD_SRC, GST_PAD_SOMETIMES,
    GST_STATIC_CAPS (MIXMINUS_CAPS));
static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink_%u",
    GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS (MIXMINUS_CAPS));

enum
{
  PROP_0,
  PROP_LEVEL_INTERVAL,
};

#define DEFAULT_LEVEL_INTERVAL 0

/* ---- the pad ---- */

struct _GstAtriumAudioMixMinusPad
{
  GstAudioAggregatorConvertPad parent;

  guint index;
  GstPad *minus_src;            /* src_<index>; owned by the element */
  GstCaps *sent_caps;           /* what minus_src was last told */
  gboolean sent_segment;

  /* This input's samples in the current output buffer, in the accumulator's
   * type; valid while `cycle` equals the element's. */
  gpointer own;
  gsize own_size;
  guint64 cycle;

  /* Level since the last message. */
  gdouble sumsq;
  guint64 nsamples;
};

G_DEFINE_TYPE (GstAtriumAudioMixMinusPad, gst_atrium_audio_mix_minus_pad,
    GST_TYPE_AUDIO_AGGREGATOR_CONVERT_PAD);

static void
gst_atrium_audio_mix_minus_pad_finalize (GObject * object)
{
  GstAtriumAudioMixMinusPad *pad = GST_ATRIUM_AUDIO_MIX_MINUS_PAD (object);

  g_free (pad->own);
  gst_clear_caps (&pad->sent_caps);
  G_OBJECT_CLASS (gst_atrium_audio_mix_minus_pad_parent_class)->finalize
      (object);
}

static void
gst_atrium_audio_mix_minus_pad_class_init (GstAtriumAudioMixMinusPadClass *
    klass)
{
  G_OBJECT_CLASS (klass)->finalize = gst_atrium_audio_mix_minus_pad_finalize;
}

static void
gst_atrium_audio_mix_minus_pad_init (GstAtriumAudioMixMinusPad * pad)
{
}

/* ---- the element ---- */

struct _GstAtriumAudioMixMinus
{
  GstAudioAggregator parent;

  /* Sum of all inputs for the current output buffer: gint32 per sample for
   * S16, gfloat for F32. Touched only from the aggregator's thread. */
  gpointer acc;
  gsize acc_size;
  guint64 cycle;
  gboolean is_float;

  GstClockTime level_interval;
  GstClockTime level_next;
};

G_DEFINE_TYPE (GstAtriumAudioMixMinus, gst_atrium_audio_mix_minus,
    GST_TYPE_AUDIO_AGGREGATOR);
GST_ELEMENT_REGISTER_DEFINE (atriumaudiomixminus, "atriumaudiomixminus",
    GST_RANK_NONE, GST_TYPE_ATRIUM_AUDIO_MIX_MINUS);

static GstAudioInfo *
src_info (GstAtriumAudioMixMinus * self)
{
  return &GST_AUDIO_AGGREGATOR_PAD (GST_AGGREGATOR_SRC_PAD (self))->info;
}

static GstBuffer *
gst_atrium_audio_mix_minus_create_output_buffer (GstAudioAggregator * aagg,
    guint num_frames)
{
  GstAtriumAudioMixMinus *self = GST_ATRIUM_AUDIO_MIX_MINUS (aagg);
  GstAudioInfo *info = src_info (self);
  gsize need = (gsize) num_frames * GST_AUDIO_INFO_CHANNELS (info) * 4;

  /* Both accumulator types are four bytes wide. */
  if (self->acc_size < need) {
    g_free (self->acc);
    self->acc = g_malloc (need);
    self->acc_size = need;
  }
  memset (self->acc, 0, need);
  self->is_float = GST_AUDIO_INFO_IS_FLOAT (info);
  self->cycle++;

  return
      GST_AUDIO_AGGREGATOR_CLASS
      (gst_atrium_audio_mix_minus_parent_class)->create_output_buffer (aagg,
      num_frames);
}

/* Called with the object lock held, once or more per input and output
 * buffer: adds the input to the sum and keeps a copy as the input's own. */
static gboolean
gst_atrium_audio_mix_minus_aggregate_one_buffer (GstAudioAggregator * aagg,
    GstAudioAggregatorPad * apad, GstBuffer * inbuf, guint in_offset,
    GstBuffer * outbuf, guint out_offset, guint num_frames)
{
  GstAtriumAudioMixMinus *self = GST_ATRIUM_AUDIO_MIX_MINUS (aagg);
  GstAtriumAudioMixMinusPad *pad = GST_ATRIUM_AUDIO_MIX_MINUS_PAD (apad);
  GstAudioInfo *info = src_info (self);
  guint channels = GST_AUDIO_INFO_CHANNELS (info);
  gsize out_samples = gst_buffer_get_size (outbuf) / GST_AUDIO_INFO_BPS (info);
  gsize n = (gsize) num_frames * channels;
  gsize at = (gsize) out_offset * channels;
  GstMapInfo in;
  gdouble sumsq = 0;
  gsize i;

  if (at + n > out_samples || out_samples * 4 > self->acc_size)
    return FALSE;
  if (!gst_buffer_map (inbuf, &in, GST_MAP_READ))
    return FALSE;

  if (pad->own_size < out_samples * 4) {
    g_free (pad->own);
    pad->own = g_malloc (out_samples * 4);
    pad->own_size = out_samples * 4;
  }
  if (pad->cycle != self->cycle) {
    memset (pad->own, 0, out_samples * 4);
    pad->cycle = self->cycle;
  }

  if (self->is_float) {
    const gfloat *src = (const gfloat *) in.data + (gsize) in_offset * channels;
    gfloat *acc = (gfloat *) self->acc + at;
    gfloat *own = (gfloat *) pad->own + at;
    for (i = 0; i < n; i++) {
      acc[i] += src[i];
      own[i] = src[i];
      sumsq += (gdouble) src[i] * src[i];
    }
  } else {
    const gint16 *src = (const gint16 *) in.data + (gsize) in_offset * channels;
    gint32 *acc = (gint32 *) self->acc + at;
    gint32 *own = (gint32 *) pad->own + at;
    for (i = 0; i < n; i++) {
      acc[i] += src[i];
      own[i] = src[i];
      sumsq += (gdouble) src[i] * src[i] / (32768.0 * 32768.0);
    }
  }
  gst_buffer_unmap (inbuf, &in);

  pad->sumsq += sumsq;
  pad->nsamples += n;
  return TRUE;
}

/* Writes `acc - own` (own may be NULL), clipped, into `out`. */
static void
write_mix (GstAtriumAudioMixMinus * self, GstBuffer * out, gconstpointer own,
    gsize samples)
{
  GstMapInfo map;
  gsize i;

  if (!gst_buffer_map (out, &map, GST_MAP_WRITE))
    return;
  samples = MIN (samples, map.size / (self->is_float ? 4 : 2));
  if (self->is_float) {
    const gfloat *acc = self->acc;
    const gfloat *o = own;
    gfloat *dst = (gfloat *) map.data;
    for (i = 0; i < samples; i++) {
      gfloat v = o ? acc[i] - o[i] : acc[i];
      dst[i] = CLAMP (v, -1.0f, 1.0f);
    }
  } else {
    const gint32 *acc = self->acc;
    const gint32 *o = own;
    gint16 *dst = (gint16 *) map.data;
    for (i = 0; i < samples; i++) {
      gint32 v = o ? acc[i] - o[i] : acc[i];
      dst[i] = (gint16) CLAMP (v, G_MININT16, G_MAXINT16);
    }
  }
  gst_buffer_unmap (out, &map);
}

/* Sticky events for a mix-minus source pad before its first buffer, and
 * again when the output caps change. */
static void
prepare_minus_src (GstAtriumAudioMixMinus * self,
    GstAtriumAudioMixMinusPad * pad, GstCaps * caps, const GstSegment * segment)
{
  if (!gst_pad_get_sticky_event (pad->minus_src, GST_EVENT_STREAM_START, 0)) {
    gchar *id = g_strdup_printf ("%s/%s", GST_OBJECT_NAME (self),
        GST_OBJECT_NAME (pad->minus_src));
    GstEvent *ev = gst_event_new_stream_start (id);
    gst_event_set_group_id (ev, gst_util_group_id_next ());
    gst_pad_push_event (pad->minus_src, ev);
    g_free (id);
  } else {
    gst_event_unref (gst_pad_get_sticky_event (pad->minus_src,
            GST_EVENT_STREAM_START, 0));
  }
  if (caps && (!pad->sent_caps || !gst_caps_is_equal (caps, pad->sent_caps))) {
    gst_caps_replace (&pad->sent_caps, caps);
    gst_pad_push_event (pad->minus_src, gst_event_new_caps (caps));
    pad->sent_segment = FALSE;
  }
  if (!pad->sent_segment) {
    gst_pad_push_event (pad->minus_src, gst_event_new_segment (segment));
    pad->sent_segment = TRUE;
  }
}

typedef struct
{
  GstAtriumAudioMixMinusPad *pad;
  GstBuffer *buf;
} MinusOut;

static void
post_levels (GstAtriumAudioMixMinus * self, GstClockTime running_time,
    GPtrArray * pads)
{
  guint i;

  for (i = 0; i < pads->len; i++) {
    GstAtriumAudioMixMinusPad *pad = g_ptr_array_index (pads, i);
    gdouble rms_db = -127.0;
    GstStructure *s;

    GST_OBJECT_LOCK (self);
    if (pad->nsamples > 0 && pad->sumsq > 0)
      rms_db = 10.0 * log10 (pad->sumsq / pad->nsamples);
    pad->sumsq = 0;
    pad->nsamples = 0;
    GST_OBJECT_UNLOCK (self);

    s = gst_structure_new ("atrium-audio-level",
        "pad", G_TYPE_STRING, GST_OBJECT_NAME (pad),
        "index", G_TYPE_UINT, pad->index,
        "rms-db", G_TYPE_DOUBLE, MAX (rms_db, -127.0),
        "running-time", G_TYPE_UINT64, running_time, NULL);
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self), s));
  }
}

/* The sum is complete: push sum-minus-own on every input's source pad, then
 * the sum itself on `src`. */
static GstFlowReturn
gst_atrium_audio_mix_minus_finish_buffer (GstAggregator * agg,
    GstBuffer * outbuf)
{
  GstAtriumAudioMixMinus *self = GST_ATRIUM_AUDIO_MIX_MINUS (agg);
  GstAudioInfo *info = src_info (self);
  gsize samples = gst_buffer_get_size (outbuf) / GST_AUDIO_INFO_BPS (info);
  GstCaps *caps = gst_pad_get_current_caps (GST_AGGREGATOR_SRC_PAD (agg));
  GstSegment segment;
  GArray *outs = g_array_new (FALSE, FALSE, sizeof (MinusOut));
  GPtrArray *level_pads = NULL;
  GList *l;
  guint i;

  if (samples * 4 > self->acc_size)
    samples = self->acc_size / 4;

  GST_OBJECT_LOCK (agg);
  gst_segment_copy_into (&GST_AGGREGATOR_PAD (agg->srcpad)->segment, &segment);
  for (l = GST_ELEMENT (agg)->sinkpads; l; l = l->next) {
    GstAtriumAudioMixMinusPad *pad = l->data;
    MinusOut o;

    if (!pad->minus_src)
      continue;
    o.pad = gst_object_ref (pad);
    o.buf = gst_buffer_new_allocate (NULL, gst_buffer_get_size (outbuf), NULL);
    gst_buffer_copy_into (o.buf, outbuf, GST_BUFFER_COPY_METADATA, 0, -1);
    write_mix (self, o.buf, pad->cycle == self->cycle ? pad->own : NULL,
        samples);
    g_array_append_val (outs, o);
  }
  if (self->level_interval > 0) {
    GstClockTime rt = gst_segment_to_running_time (&segment, GST_FORMAT_TIME,
        GST_BUFFER_PTS (outbuf));
    if (GST_CLOCK_TIME_IS_VALID (rt) && (!GST_CLOCK_TIME_IS_VALID
            (self->level_next) || rt >= self->level_next)) {
      self->level_next = rt + self->level_interval;
      level_pads = g_ptr_array_new_with_free_func (gst_object_unref);
      for (l = GST_ELEMENT (agg)->sinkpads; l; l = l->next)
        g_ptr_array_add (level_pads, gst_object_ref (l->data));
    }
  }
  GST_OBJECT_UNLOCK (agg);

  outbuf = gst_buffer_make_writable (outbuf);
  write_mix (self, outbuf, NULL, samples);

  for (i = 0; i < outs->len; i++) {
    MinusOut *o = &g_array_index (outs, MinusOut, i);
    GstFlowReturn r;

    prepare_minus_src (self, o->pad, caps, &segment);
    /* One listener that is gone or slow must not stop the others. */
    r = gst_pad_push (o->pad->minus_src, o->buf);
    if (r != GST_FLOW_OK && r != GST_FLOW_NOT_LINKED && r != GST_FLOW_FLUSHING)
      GST_DEBUG_OBJECT (o->pad->minus_src, "push: %s", gst_flow_get_name (r));
    gst_object_unref (o->pad);
  }
  g_array_free (outs, TRUE);
  gst_clear_caps (&caps);

  if (level_pads) {
    post_levels (self, self->level_next - self->level_interval, level_pads);
    g_ptr_array_unref (level_pads);
  }

  return
      GST_AGGREGATOR_CLASS (gst_atrium_audio_mix_minus_parent_class)->
      finish_buffer (agg, outbuf);
}

static gboolean
minus_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstAggregator *agg = GST_AGGREGATOR (parent);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS:{
      GstCaps *caps = gst_pad_get_current_caps (agg->srcpad);
      GstCaps *filter = NULL;
      if (!caps)
        caps = gst_pad_get_pad_template_caps (pad);
      gst_query_parse_caps (query, &filter);
      if (filter) {
        GstCaps *c = gst_caps_intersect (caps, filter);
        gst_caps_unref (caps);
        caps = c;
      }
      gst_query_set_caps_result (query, caps);
      gst_caps_unref (caps);
      return TRUE;
    }
    case GST_QUERY_LATENCY:
    case GST_QUERY_POSITION:
    case GST_QUERY_DURATION:
      /* Same timing as the full mix. */
      return GST_PAD_QUERYFUNC (agg->srcpad) (agg->srcpad, parent, query);
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

static gboolean
minus_src_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  /* Upstream events from one listener (QoS, reconfigure, seeks) do not steer
   * the shared mix. */
  gst_event_unref (event);
  return TRUE;
}

static GstPad *
gst_atrium_audio_mix_minus_request_new_pad (GstElement * element,
    GstPadTemplate * templ, const gchar * req_name, const GstCaps * caps)
{
  GstPad *sink;
  GstAtriumAudioMixMinusPad *pad;
  gchar *name;
  GstPad *src;

  sink =
      GST_ELEMENT_CLASS (gst_atrium_audio_mix_minus_parent_class)->
      request_new_pad (element, templ, req_name, caps);
  if (!sink)
    return NULL;
  pad = GST_ATRIUM_AUDIO_MIX_MINUS_PAD (sink);
  if (sscanf (GST_OBJECT_NAME (sink), "sink_%u", &pad->index) != 1)
    pad->index = 0;

  name = g_strdup_printf ("src_%u", pad->index);
  src = gst_pad_new_from_static_template (&minus_src_template, name);
  g_free (name);
  gst_pad_set_query_function (src, minus_src_query);
  gst_pad_set_event_function (src, minus_src_event);
  gst_pad_use_fixed_caps (src);
  if (GST_STATE (element) > GST_STATE_READY
      || GST_STATE_TARGET (element) > GST_STATE_READY)
    gst_pad_set_active (src, TRUE);

  GST_OBJECT_LOCK (element);
  pad->minus_src = gst_object_ref (src);
  GST_OBJECT_UNLOCK (element);
  gst_element_add_pad (element, src);
  GST_DEBUG_OBJECT (element, "new input [pad:%s]", GST_OBJECT_NAME (sink));
  return sink;
}

static void
gst_atrium_audio_mix_minus_release_pad (GstElement * element, GstPad * sink)
{
  GstAtriumAudioMixMinusPad *pad = GST_ATRIUM_AUDIO_MIX_MINUS_PAD (sink);
  GstPad *src;

  GST_OBJECT_LOCK (element);
  src = pad->minus_src;
  pad->minus_src = NULL;
  GST_OBJECT_UNLOCK (element);

  GST_ELEMENT_CLASS (gst_atrium_audio_mix_minus_parent_class)->release_pad
      (element, sink);
  if (src) {
    gst_pad_set_active (src, FALSE);
    gst_element_remove_pad (element, src);
    gst_object_unref (src);
  }
}

/* The whole mix ends: so does every mix-minus output. */
static GstPadProbeReturn
src_eos_probe (GstPad * srcpad, GstPadProbeInfo * info, gpointer user_data)
{
  GstElement *element = GST_ELEMENT (user_data);
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  GPtrArray *srcs;
  GList *l;
  guint i;

  if (GST_EVENT_TYPE (event) != GST_EVENT_EOS)
    return GST_PAD_PROBE_OK;
  srcs = g_ptr_array_new_with_free_func (gst_object_unref);
  GST_OBJECT_LOCK (element);
  for (l = element->sinkpads; l; l = l->next) {
    GstAtriumAudioMixMinusPad *pad = l->data;
    if (pad->minus_src)
      g_ptr_array_add (srcs, gst_object_ref (pad->minus_src));
  }
  GST_OBJECT_UNLOCK (element);
  for (i = 0; i < srcs->len; i++)
    gst_pad_push_event (g_ptr_array_index (srcs, i), gst_event_new_eos ());
  g_ptr_array_unref (srcs);
  return GST_PAD_PROBE_OK;
}

static gboolean
gst_atrium_audio_mix_minus_start (GstAggregator * agg)
{
  GstAtriumAudioMixMinus *self = GST_ATRIUM_AUDIO_MIX_MINUS (agg);

  self->level_next = GST_CLOCK_TIME_NONE;
  return GST_AGGREGATOR_CLASS (gst_atrium_audio_mix_minus_parent_class)->start
      (agg);
}

static void
gst_atrium_audio_mix_minus_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstAtriumAudioMixMinus *self = GST_ATRIUM_AUDIO_MIX_MINUS (object);

  switch (prop_id) {
    case PROP_LEVEL_INTERVAL:
      GST_OBJECT_LOCK (self);
      self->level_interval = g_value_get_uint64 (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_atrium_audio_mix_minus_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstAtriumAudioMixMinus *self = GST_ATRIUM_AUDIO_MIX_MINUS (object);

  switch (prop_id) {
    case PROP_LEVEL_INTERVAL:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->level_interval);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_atrium_audio_mix_minus_finalize (GObject * object)
{
  GstAtriumAudioMixMinus *self = GST_ATRIUM_AUDIO_MIX_MINUS (object);

  g_free (self->acc);
  G_OBJECT_CLASS (gst_atrium_audio_mix_minus_parent_class)->finalize (object);
}

static void
gst_atrium_audio_mix_minus_class_init (GstAtriumAudioMixMinusClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstAggregatorClass *agg_class = GST_AGGREGATOR_CLASS (klass);
  GstAudioAggregatorClass *aagg_class = GST_AUDIO_AGGREGATOR_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (atrium_mixminus_debug, "atrium-mixminus", 0,
      "Atrium mix-minus audio mixer");

  gobject_class->set_property = gst_atrium_audio_mix_minus_set_property;
  gobject_class->get_property = gst_atrium_audio_mix_minus_get_property;
  gobject_class->finalize = gst_atrium_audio_mix_minus_finalize;

  g_object_class_install_property (gobject_class, PROP_LEVEL_INTERVAL,
      g_param_spec_uint64 ("level-interval", "Level interval",
          "Post an atrium-audio-level message per input this often "
          "(nanoseconds, 0 = never)", 0, G_MAXUINT64, DEFAULT_LEVEL_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &src_template, GST_TYPE_AUDIO_AGGREGATOR_PAD);
  gst_element_class_add_static_pad_template (element_class,
      &minus_src_template);
  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &sink_template, GST_TYPE_ATRIUM_AUDIO_MIX_MINUS_PAD);
  gst_element_class_set_static_metadata (element_class,
      "Mix-minus audio mixer", "Generic/Audio",
      "Mixes N inputs once and gives each input the mix without itself",
      "The Atrium authors");

  element_class->request_new_pad =
      GST_DEBUG_FUNCPTR (gst_atrium_audio_mix_minus_request_new_pad);
  element_class->release_pad =
      GST_DEBUG_FUNCPTR (gst_atrium_audio_mix_minus_release_pad);
  agg_class->start = GST_DEBUG_FUNCPTR (gst_atrium_audio_mix_minus_start);
  agg_class->finish_buffer =
      GST_DEBUG_FUNCPTR (gst_atrium_audio_mix_minus_finish_buffer);
  aagg_class->create_output_buffer =
      GST_DEBUG_FUNCPTR (gst_atrium_audio_mix_minus_create_output_buffer);
  aagg_class->aggregate_one_buffer =
      GST_DEBUG_FUNCPTR (gst_atrium_audio_mix_minus_aggregate_one_buffer);

  gst_type_mark_as_plugin_api (GST_TYPE_ATRIUM_AUDIO_MIX_MINUS_PAD, 0);
}

static void
gst_atrium_audio_mix_minus_init (GstAtriumAudioMixMinus * self)
{
  GstAggregator *agg = GST_AGGREGATOR (self);

  self->level_interval = DEFAULT_LEVEL_INTERVAL;
  self->level_next = GST_CLOCK_TIME_NONE;
  gst_pad_add_probe (agg->srcpad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      src_eos_probe, self, NULL);
}
