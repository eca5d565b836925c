/* GStreamer
 * Copyright (C) 2026 The Atrium authors
 *
 * This library is free software; you can redistribute it and/or modify it
 * under the terms of the GNU Lesser General Public License version 2.1 or
 * later.
 */

/**
 * SECTION:element-atriummotiondetect
 * @title: atriummotiondetect
 *
 * Tells when something starts and stops moving in a video stream. Each frame
 * is compared, on a grey copy 160 pixels wide, with a running average of the
 * frames before it (cv::accumulateWeighted): the background. A pixel has
 * changed when it differs from the background by more than
 * #GstAtriumMotionDetect:threshold; a frame has motion when at least
 * #GstAtriumMotionDetect:min-area of it has changed. Motion ends after
 * #GstAtriumMotionDetect:hold of running time without any. Something that
 * stops moving becomes background in about 1.2 s (a time constant of 0.5 s,
 * whatever the frame rate), so motion ends about that plus `hold` after it
 * stopped; the first frame after start or a caps change only starts the
 * background.
 *
 * The element posts an `atrium-motion` element message when motion starts
 * and when it ends, not for every frame: `active` (gboolean), `area`
 * (gdouble, the fraction of the frame that changed, on that frame) and
 * `running-time` (guint64). With #GstAtriumMotionDetect:draw it draws a box
 * around each moving region; otherwise it never writes to the frames and
 * runs in passthrough.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m videotestsrc pattern=ball num-buffers=300 ! \
 *   video/x-raw,width=640,height=360,framerate=30/1 ! videoconvert ! \
 *   atriummotiondetect draw=true ! videoconvert ! autovideosink
 * ]| shows the moving ball boxed, and prints the start of motion. The element
 * takes packed 24- and 32-bit RGB in any byte order; videoconvert brings
 * anything else to it.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstatriummotiondetect.h"
#include "gstatriumcv.h"

#include <cmath>
#include <exception>
#include <new>
#include <vector>

GST_DEBUG_CATEGORY_STATIC (atrium_motiondetect_debug);
#define GST_CAT_DEFAULT atrium_motiondetect_debug

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (GST_ATRIUM_CV_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (GST_ATRIUM_CV_CAPS));

enum
{
  PROP_0,
  PROP_THRESHOLD,
  PROP_MIN_AREA,
  PROP_HOLD,
  PROP_DRAW,
};

#define DEFAULT_THRESHOLD 25
#define DEFAULT_MIN_AREA 0.01
#define DEFAULT_HOLD 1000
#define DEFAULT_DRAW FALSE

/* Width of the grey copy motion is looked for in. */
#define ANALYSIS_WIDTH 160
/* Time constant of the background's running average: whatever stays still
 * has become background (within the default threshold) after about 1.2 s,
 * at any frame rate. */
#define BACKGROUND_TAU 0.5
/* Moving regions smaller than this (in pixels of the grey copy) get no box. */
#define MIN_BOX_AREA 4

/* What the streaming thread keeps between frames (start() resets it). */
struct MotionDetectState
{
  cv::Mat small;
  cv::Mat grey;
  cv::Mat background;           /* CV_32F running average */
  cv::Mat background8;
  cv::Mat previous;             /* last frame's grey copy */
  cv::Mat diff;
  cv::Mat mask;                 /* changed from the background */
  cv::Mat moving;               /* changed from the last frame as well */
  gboolean active = FALSE;
  GstClockTime last_motion = GST_CLOCK_TIME_NONE;
  GstClockTime last_now = GST_CLOCK_TIME_NONE;
};

struct _GstAtriumMotionDetect
{
  GstVideoFilter parent;

  /* Properties, under the object lock. */
  guint threshold;
  gdouble min_area;
  guint64 hold;                 /* milliseconds */
  gboolean draw;

  /* Constructed in init, destroyed in finalize. */
  MotionDetectState state;
};

G_DEFINE_TYPE (GstAtriumMotionDetect, gst_atrium_motion_detect,
    GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (atriummotiondetect, "atriummotiondetect",
    GST_RANK_NONE, GST_TYPE_ATRIUM_MOTION_DETECT);

static void
reset_state (MotionDetectState & st)
{
  st.background.release ();
  st.active = FALSE;
  st.last_motion = GST_CLOCK_TIME_NONE;
  st.last_now = GST_CLOCK_TIME_NONE;
}

static void
post_motion (GstAtriumMotionDetect * self, gboolean active, gdouble area,
    GstClockTime running_time)
{
  GST_DEBUG_OBJECT (self, "motion %s [area:%.4f]", active ? "starts" : "ends",
      area);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("atrium-motion",
              "active", G_TYPE_BOOLEAN, active,
              "area", G_TYPE_DOUBLE, area,
              "running-time", G_TYPE_UINT64, running_time, NULL)));
}

/* Boxes around the regions that move now, scaled from the grey copy to the
 * frame. Where something was a moment ago differs from the background too
 * (the average still holds it); only pixels that also changed since the
 * last frame get a box, so that its trail does not. */
static void
draw_regions (MotionDetectState & st, cv::Mat & img, const GstVideoInfo * info,
    guint threshold)
{
  std::vector < std::vector < cv::Point > >contours;
  cv::Mat merged;
  double sx = (double) img.cols / st.mask.cols;
  double sy = (double) img.rows / st.mask.rows;
  cv::Scalar colour = gst_atrium_cv_colour (info, 255, 0, 0);

  cv::absdiff (st.grey, st.previous, st.diff);
  cv::threshold (st.diff, st.moving, threshold, 255, cv::THRESH_BINARY);
  cv::bitwise_and (st.moving, st.mask, st.moving);
  /* Parts of one moving thing merge into one region. */
  cv::dilate (st.moving, merged, cv::Mat (), cv::Point (-1, -1), 3);
  cv::findContours (merged, contours, cv::RETR_EXTERNAL,
      cv::CHAIN_APPROX_SIMPLE);
  for (const auto & c:contours) {
    cv::Rect r = cv::boundingRect (c);

    if (r.area () < MIN_BOX_AREA)
      continue;
    cv::rectangle (img, cv::Point ((int) floor (r.x * sx),
            (int) floor (r.y * sy)), cv::Point ((int) ceil ((r.x +
                    r.width) * sx) - 1, (int) ceil ((r.y + r.height) * sy) - 1),
        colour, 2);
  }
}

static GstFlowReturn
gst_atrium_motion_detect_transform_frame_ip (GstVideoFilter * filter,
    GstVideoFrame * frame)
{
  GstAtriumMotionDetect *self = GST_ATRIUM_MOTION_DETECT (filter);
  MotionDetectState & st = self->state;
  guint threshold;
  gdouble min_area;
  GstClockTime hold, now, dur;
  gboolean draw;
  /* Mapped read-only in passthrough (draw off): then the buffer may be
   * shared and must not be written. */
  gboolean writable = (frame->map[0].flags & GST_MAP_WRITE) != 0;

  GST_OBJECT_LOCK (self);
  threshold = self->threshold;
  min_area = self->min_area;
  hold = self->hold * GST_MSECOND;
  draw = self->draw;
  GST_OBJECT_UNLOCK (self);

  /* A frame's duration: from the caps, else 30 fps (WebRTC streams are
   * often framerate=0/1). */
  dur = GST_VIDEO_INFO_FPS_N (&frame->info) > 0 ?
      gst_util_uint64_scale_int (GST_SECOND,
      GST_VIDEO_INFO_FPS_D (&frame->info),
      GST_VIDEO_INFO_FPS_N (&frame->info)) : GST_SECOND / 30;
  /* Running time, or for buffers without a timestamp a frame's duration
   * after the last frame. The background learns by the time that passed
   * since the last frame, up to a second. */
  now = gst_atrium_cv_running_time (GST_BASE_TRANSFORM (self), frame->buffer);
  if (!GST_CLOCK_TIME_IS_VALID (now))
    now = GST_CLOCK_TIME_IS_VALID (st.last_now) ? st.last_now + dur : 0;
  if (GST_CLOCK_TIME_IS_VALID (st.last_now) && now > st.last_now)
    dur = MIN (now - st.last_now, GST_SECOND);
  st.last_now = now;

  try {
    cv::Mat img = gst_atrium_cv_frame_mat (frame);
    int width = MIN (ANALYSIS_WIDTH, img.cols);
    int height = MAX (1, (int) lround ((double) img.rows * width / img.cols));
    gdouble area;
    gboolean moving;

    if (width < img.cols) {
      cv::resize (img, st.small, cv::Size (width, height), 0, 0,
          cv::INTER_AREA);
      gst_atrium_cv_to_grey (&frame->info, st.small, st.grey);
    } else {
      gst_atrium_cv_to_grey (&frame->info, img, st.grey);
    }
    /* Sensor noise and compression artefacts are not motion. */
    cv::GaussianBlur (st.grey, st.grey, cv::Size (5, 5), 0);

    if (st.background.empty () || st.background.size () != st.grey.size ()) {
      st.grey.convertTo (st.background, CV_32F);
      st.grey.copyTo (st.previous);
      return GST_FLOW_OK;
    }
    st.background.convertTo (st.background8, CV_8U);
    cv::absdiff (st.grey, st.background8, st.diff);
    cv::threshold (st.diff, st.mask, threshold, 255, cv::THRESH_BINARY);
    cv::accumulateWeighted (st.grey, st.background,
        1.0 - exp (-(double) dur / GST_SECOND / BACKGROUND_TAU));

    area = (gdouble) cv::countNonZero (st.mask) / st.mask.total ();
    moving = area > 0 && area >= min_area;

    if (moving) {
      st.last_motion = now;
      if (!st.active) {
        st.active = TRUE;
        post_motion (self, TRUE, area, now);
      }
    } else if (st.active && (now < st.last_motion
            || now - st.last_motion >= hold)) {
      st.active = FALSE;
      post_motion (self, FALSE, area, now);
    }

    if (moving && draw && writable)
      draw_regions (st, img, &frame->info, threshold);
    st.grey.copyTo (st.previous);
  }
  catch (const cv::Exception & e) {
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED, ("Motion detection failed."),
        ("OpenCV: %s", e.what ()));
    return GST_FLOW_ERROR;
  }
  catch (const std::exception & e) {
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED, ("Motion detection failed."),
        ("%s", e.what ()));
    return GST_FLOW_ERROR;
  }
  catch ( ...) {
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED, ("Motion detection failed."),
        ("unknown exception"));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

static gboolean
gst_atrium_motion_detect_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstAtriumMotionDetect *self = GST_ATRIUM_MOTION_DETECT (filter);

  /* A new size or layout starts a new background; motion that was going on
   * goes on until it stops in the new one. */
  self->state.background.release ();
  return TRUE;
}

static gboolean
gst_atrium_motion_detect_start (GstBaseTransform * trans)
{
  reset_state (GST_ATRIUM_MOTION_DETECT (trans)->state);
  return TRUE;
}

static gboolean
gst_atrium_motion_detect_stop (GstBaseTransform * trans)
{
  MotionDetectState & st = GST_ATRIUM_MOTION_DETECT (trans)->state;

  reset_state (st);
  st.small.release ();
  st.grey.release ();
  st.background8.release ();
  st.previous.release ();
  st.diff.release ();
  st.mask.release ();
  st.moving.release ();
  return TRUE;
}

static void
gst_atrium_motion_detect_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstAtriumMotionDetect *self = GST_ATRIUM_MOTION_DETECT (object);

  switch (prop_id) {
    case PROP_THRESHOLD:
      GST_OBJECT_LOCK (self);
      self->threshold = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MIN_AREA:
      GST_OBJECT_LOCK (self);
      self->min_area = g_value_get_double (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_HOLD:
      GST_OBJECT_LOCK (self);
      self->hold = g_value_get_uint64 (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_DRAW:{
      gboolean draw = g_value_get_boolean (value);
      GST_OBJECT_LOCK (self);
      self->draw = draw;
      GST_OBJECT_UNLOCK (self);
      /* Not drawing: no need for a writable buffer (no copy when the
       * buffer is shared). */
      gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), !draw);
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_atrium_motion_detect_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstAtriumMotionDetect *self = GST_ATRIUM_MOTION_DETECT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_THRESHOLD:
      g_value_set_uint (value, self->threshold);
      break;
    case PROP_MIN_AREA:
      g_value_set_double (value, self->min_area);
      break;
    case PROP_HOLD:
      g_value_set_uint64 (value, self->hold);
      break;
    case PROP_DRAW:
      g_value_set_boolean (value, self->draw);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_atrium_motion_detect_finalize (GObject * object)
{
  GstAtriumMotionDetect *self = GST_ATRIUM_MOTION_DETECT (object);

  self->state.~MotionDetectState ();
  G_OBJECT_CLASS (gst_atrium_motion_detect_parent_class)->finalize (object);
}

static void
gst_atrium_motion_detect_class_init (GstAtriumMotionDetectClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (atrium_motiondetect_debug, "atrium-motiondetect", 0,
      "Atrium motion detection");

  gobject_class->set_property = gst_atrium_motion_detect_set_property;
  gobject_class->get_property = gst_atrium_motion_detect_get_property;
  gobject_class->finalize = gst_atrium_motion_detect_finalize;

  g_object_class_install_property (gobject_class, PROP_THRESHOLD,
      g_param_spec_uint ("threshold", "Threshold",
          "Grey level difference from the background above which a pixel has "
          "changed", 0, 255, DEFAULT_THRESHOLD,
          (GParamFlags) (G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING |
              G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property (gobject_class, PROP_MIN_AREA,
      g_param_spec_double ("min-area", "Minimum area",
          "Fraction of the frame that must change for motion", 0.0, 1.0,
          DEFAULT_MIN_AREA, (GParamFlags) (G_PARAM_READWRITE |
              GST_PARAM_MUTABLE_PLAYING | G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property (gobject_class, PROP_HOLD,
      g_param_spec_uint64 ("hold", "Hold",
          "Motion ends after this long without motion (milliseconds of "
          "running time)", 0, G_MAXUINT64 / GST_MSECOND, DEFAULT_HOLD,
          (GParamFlags) (G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING |
              G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property (gobject_class, PROP_DRAW,
      g_param_spec_boolean ("draw", "Draw",
          "Draw a box around each moving region", DEFAULT_DRAW,
          (GParamFlags) (G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING |
              G_PARAM_STATIC_STRINGS)));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Motion detection", "Filter/Analyzer/Video",
      "Posts a message when something starts or stops moving",
      "The Atrium authors");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_atrium_motion_detect_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_atrium_motion_detect_stop);
  filter_class->set_info =
      GST_DEBUG_FUNCPTR (gst_atrium_motion_detect_set_info);
  filter_class->transform_frame_ip =
      GST_DEBUG_FUNCPTR (gst_atrium_motion_detect_transform_frame_ip);
}

static void
gst_atrium_motion_detect_init (GstAtriumMotionDetect * self)
{
  new (&self->state) MotionDetectState ();
  self->threshold = DEFAULT_THRESHOLD;
  self->min_area = DEFAULT_MIN_AREA;
  self->hold = DEFAULT_HOLD;
  self->draw = DEFAULT_DRAW;
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), !DEFAULT_DRAW);
}
