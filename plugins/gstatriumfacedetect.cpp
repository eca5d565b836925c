/* GStreamer
 * Copyright (C) 2026 The Atrium authors
 *
 * This library is free software; you can redistribute it and/or modify it
 * under the terms of the GNU Lesser General Public License version 2.1 or
 * later.
 */

/**
 * SECTION:element-atriumfacedetect
 * @title: atriumfacedetect
 *
 * Finds faces with an OpenCV Haar cascade and, for privacy, blurs them
 * (#GstAtriumFaceDetect:mode `blur`, the default), pixelates them, draws a
 * box around them, or only reports them (`none`, which leaves the frames as
 * they are and runs in passthrough).
 *
 * Detection is the costly part, so it runs on a grey copy scaled by
 * #GstAtriumFaceDetect:downscale, and only on every
 * #GstAtriumFaceDetect:interval-th frame; the frames in between are
 * treated with the faces found last. The cascade's window is 24 pixels, so
 * the smallest face found is the larger of #GstAtriumFaceDetect:min-size and
 * 24 / downscale pixels of the frame.
 *
 * The element posts an `atrium-face` element message when the number of
 * faces changes, and at most once a second (of running time) while there
 * are faces: `faces` (guint), `rects` (a #GstValueList of `face` structures
 * with guint fields `x`, `y`, `width`, `height` in the frame's pixels) and
 * `running-time` (guint64, the buffer's running time).
 *
 * The cascade is loaded when the element starts (READY to PAUSED): one that
 * cannot be loaded is a RESOURCE error there. Debian ships the default one in
 * the opencv-data package.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m filesrc location=/usr/share/doc/opencv-doc/examples/data/messi5.jpg ! \
 *   jpegdec ! videoconvert ! imagefreeze num-buffers=90 ! videoscale ! \
 *   video/x-raw,format=BGRx,width=1096,height=684,framerate=30/1 ! \
 *   atriumfacedetect mode=box ! videoconvert ! autovideosink
 * ]| shows a photo with a box around the face, and prints the messages. The
 * element takes packed 24- and 32-bit RGB in any byte order; videoconvert
 * brings anything else to it.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstatriumfacedetect.h"
#include "gstatriumcv.h"

#include <opencv2/objdetect.hpp>

#include <cmath>
#include <exception>
#include <new>
#include <string>
#include <vector>

GST_DEBUG_CATEGORY_STATIC (atrium_facedetect_debug);
#define GST_CAT_DEFAULT atrium_facedetect_debug

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (GST_ATRIUM_CV_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (GST_ATRIUM_CV_CAPS));

enum
{
  PROP_0,
  PROP_CASCADE,
  PROP_MODE,
  PROP_MIN_SIZE,
  PROP_SCALE_FACTOR,
  PROP_INTERVAL,
  PROP_DOWNSCALE,
};

#define DEFAULT_CASCADE \
  "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
#define DEFAULT_MODE GST_ATRIUM_FACE_DETECT_MODE_BLUR
#define DEFAULT_MIN_SIZE 30
#define DEFAULT_SCALE_FACTOR 1.2
#define DEFAULT_INTERVAL 3
#define DEFAULT_DOWNSCALE 0.5

/* Overlapping windows a face needs to count. OpenCV's usual 3 also takes
 * patches of crowd and shirt for faces in Atrium's test photo; 4 does not,
 * and still finds the face. */
#define MIN_NEIGHBORS 4
/* The default cascade's window, in pixels of the image it looks at. */
#define CASCADE_WINDOW 24

/* What the streaming thread keeps between frames (and start() sets up). */
struct FaceDetectState
{
  cv::CascadeClassifier cascade;
  std::vector < cv::Rect > faces;       /* last found, in frame pixels */
  cv::Mat small;
  cv::Mat grey;
  guint until_detect = 0;       /* frames to go before the next detection */
  gsize posted_faces = 0;       /* `faces` of the last message */
  GstClockTime posted_at = GST_CLOCK_TIME_NONE;
};

struct _GstAtriumFaceDetect
{
  GstVideoFilter parent;

  /* Properties, under the object lock. */
  gchar *cascade_path;
  GstAtriumFaceDetectMode mode;
  guint min_size;
  gdouble scale_factor;
  guint interval;
  gdouble downscale;

  /* Constructed in init, destroyed in finalize. */
  FaceDetectState state;
};

/* A copy of the properties, taken once a frame. */
struct FaceDetectSettings
{
  GstAtriumFaceDetectMode mode;
  guint min_size;
  gdouble scale_factor;
  guint interval;
  gdouble downscale;
};

G_DEFINE_TYPE (GstAtriumFaceDetect, gst_atrium_face_detect,
    GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (atriumfacedetect, "atriumfacedetect",
    GST_RANK_NONE, GST_TYPE_ATRIUM_FACE_DETECT);

GType
gst_atrium_face_detect_mode_get_type (void)
{
  static gsize id = 0;
  static const GEnumValue values[] = {
    {GST_ATRIUM_FACE_DETECT_MODE_BLUR, "Blur each face", "blur"},
    {GST_ATRIUM_FACE_DETECT_MODE_PIXELATE, "Pixelate each face", "pixelate"},
    {GST_ATRIUM_FACE_DETECT_MODE_BOX, "Draw a box around each face", "box"},
    {GST_ATRIUM_FACE_DETECT_MODE_NONE, "Only report the faces", "none"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&id)) {
    GType type = g_enum_register_static ("GstAtriumFaceDetectMode", values);
    g_once_init_leave (&id, type);
  }
  return (GType) id;
}

/* A heavy Gaussian blur (sigma about an eighth of the face), taken on a copy
 * reduced to about 12 pixels across, where it is cheap, and scaled back. */
static void
blur_face (cv::Mat & img, const cv::Rect & r)
{
  cv::Mat roi = img (r);
  int f = MAX (1, r.width / 12);
  cv::Mat small;

  cv::resize (roi, small, cv::Size ((r.width + f - 1) / f,
          (r.height + f - 1) / f), 0, 0, cv::INTER_AREA);
  cv::GaussianBlur (small, small, cv::Size (0, 0), 1.5);
  cv::resize (small, roi, roi.size (), 0, 0, cv::INTER_LINEAR);
}

/* About ten blocks across the face. */
static void
pixelate_face (cv::Mat & img, const cv::Rect & r)
{
  cv::Mat roi = img (r);
  int block = MAX (4, r.width / 10);
  cv::Mat small;

  cv::resize (roi, small, cv::Size ((r.width + block - 1) / block,
          (r.height + block - 1) / block), 0, 0, cv::INTER_AREA);
  cv::resize (small, roi, roi.size (), 0, 0, cv::INTER_NEAREST);
}

/* Runs the cascade on a reduced grey copy of the frame; the faces come back
 * in frame pixels, inside the frame. */
static void
detect_faces (GstAtriumFaceDetect * self, const GstVideoInfo * info,
    const cv::Mat & img, const FaceDetectSettings & s)
{
  FaceDetectState & st = self->state;
  std::vector < cv::Rect > found;
  cv::Rect frame_rect (0, 0, img.cols, img.rows);
  double ds = s.downscale;
  int min_px;

  if (ds < 1.0) {
    cv::Size size (MAX (1, (int) lround (img.cols * ds)),
        MAX (1, (int) lround (img.rows * ds)));
    cv::resize (img, st.small, size, 0, 0, cv::INTER_AREA);
    gst_atrium_cv_to_grey (info, st.small, st.grey);
  } else {
    gst_atrium_cv_to_grey (info, img, st.grey);
  }
  cv::equalizeHist (st.grey, st.grey);

  min_px = MAX (CASCADE_WINDOW, (int) lround (s.min_size * ds));
  st.cascade.detectMultiScale (st.grey, found, s.scale_factor, MIN_NEIGHBORS,
      0, cv::Size (min_px, min_px));

  st.faces.clear ();
  for (const cv::Rect & r:found) {
    int x0 = (int) floor (r.x / ds), y0 = (int) floor (r.y / ds);
    int x1 = (int) ceil ((r.x + r.width) / ds);
    int y1 = (int) ceil ((r.y + r.height) / ds);
    cv::Rect face = cv::Rect (x0, y0, x1 - x0, y1 - y0) & frame_rect;

    if (!face.empty ())
      st.faces.push_back (face);
  }
}

static void
post_faces (GstAtriumFaceDetect * self, GstClockTime running_time)
{
  FaceDetectState & st = self->state;
  GValue rects = G_VALUE_INIT;
  GstStructure *s;

  g_value_init (&rects, GST_TYPE_LIST);
  for (const cv::Rect & r:st.faces) {
    GValue v = G_VALUE_INIT;

    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, gst_structure_new ("face",
            "x", G_TYPE_UINT, (guint) r.x, "y", G_TYPE_UINT, (guint) r.y,
            "width", G_TYPE_UINT, (guint) r.width,
            "height", G_TYPE_UINT, (guint) r.height, NULL));
    gst_value_list_append_and_take_value (&rects, &v);
  }

  s = gst_structure_new ("atrium-face",
      "faces", G_TYPE_UINT, (guint) st.faces.size (),
      "running-time", G_TYPE_UINT64, running_time, NULL);
  gst_structure_take_value (s, "rects", &rects);
  GST_LOG_OBJECT (self, "faces [count:%" G_GSIZE_FORMAT "]",
      st.faces.size ());
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* On a frame that ran detection: post when the count changed, and at most
 * once a second otherwise while there are faces. */
static void
maybe_post_faces (GstAtriumFaceDetect * self, GstClockTime running_time)
{
  FaceDetectState & st = self->state;
  gboolean changed = st.faces.size () != st.posted_faces;
  gboolean due = !st.faces.empty () && GST_CLOCK_TIME_IS_VALID (running_time)
      && (!GST_CLOCK_TIME_IS_VALID (st.posted_at)
      || running_time < st.posted_at
      || running_time - st.posted_at >= GST_SECOND);

  if (!changed && !due)
    return;
  st.posted_faces = st.faces.size ();
  st.posted_at = running_time;
  post_faces (self, running_time);
}

static GstFlowReturn
gst_atrium_face_detect_transform_frame_ip (GstVideoFilter * filter,
    GstVideoFrame * frame)
{
  GstAtriumFaceDetect *self = GST_ATRIUM_FACE_DETECT (filter);
  FaceDetectState & st = self->state;
  FaceDetectSettings s;
  /* Mapped read-only in passthrough (mode none): then the buffer may be
   * shared and must not be written. */
  gboolean writable = (frame->map[0].flags & GST_MAP_WRITE) != 0;

  GST_OBJECT_LOCK (self);
  s.mode = self->mode;
  s.min_size = self->min_size;
  s.scale_factor = self->scale_factor;
  s.interval = self->interval;
  s.downscale = self->downscale;
  GST_OBJECT_UNLOCK (self);

  try {
    cv::Mat img = gst_atrium_cv_frame_mat (frame);

    /* Also right away when the interval was just made shorter. */
    if (st.until_detect == 0 || st.until_detect >= s.interval) {
      detect_faces (self, &frame->info, img, s);
      st.until_detect = s.interval;
      maybe_post_faces (self,
          gst_atrium_cv_running_time (GST_BASE_TRANSFORM (self),
              frame->buffer));
    }
    st.until_detect--;

    if (!writable || s.mode == GST_ATRIUM_FACE_DETECT_MODE_NONE)
      return GST_FLOW_OK;
    for (const cv::Rect & r:st.faces) {
      switch (s.mode) {
        case GST_ATRIUM_FACE_DETECT_MODE_BLUR:
          blur_face (img, r);
          break;
        case GST_ATRIUM_FACE_DETECT_MODE_PIXELATE:
          pixelate_face (img, r);
          break;
        case GST_ATRIUM_FACE_DETECT_MODE_BOX:
          cv::rectangle (img, r, gst_atrium_cv_colour (&frame->info, 0, 255,
                  0), MAX (2, r.width / 50));
          break;
        default:
          break;
      }
    }
  }
  catch (const cv::Exception & e) {
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED, ("Face detection failed."),
        ("OpenCV: %s", e.what ()));
    return GST_FLOW_ERROR;
  }
  catch (const std::exception & e) {
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED, ("Face detection failed."),
        ("%s", e.what ()));
    return GST_FLOW_ERROR;
  }
  catch ( ...) {
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED, ("Face detection failed."),
        ("unknown exception"));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

static gboolean
gst_atrium_face_detect_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstAtriumFaceDetect *self = GST_ATRIUM_FACE_DETECT (filter);

  /* Faces found in another size or layout mean nothing in this one. */
  self->state.faces.clear ();
  self->state.until_detect = 0;
  return TRUE;
}

static gboolean
gst_atrium_face_detect_start (GstBaseTransform * trans)
{
  GstAtriumFaceDetect *self = GST_ATRIUM_FACE_DETECT (trans);
  FaceDetectState & st = self->state;
  gchar *path;
  gboolean loaded = FALSE;
  std::string why;

  GST_OBJECT_LOCK (self);
  path = g_strdup (self->cascade_path);
  GST_OBJECT_UNLOCK (self);

  if (!path || !g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("No face cascade at \"%s\".", GST_STR_NULL (path)),
        ("the default one is in Debian's opencv-data package"));
    g_free (path);
    return FALSE;
  }
  try {
    loaded = st.cascade.load (path);
  }
  catch (const std::exception & e) {
    why = e.what ();
  }
  if (!loaded || st.cascade.empty ()) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Could not load the face cascade \"%s\".", path),
        ("not an OpenCV cascade file%s%s", why.empty ()? "" : ": ",
            why.c_str ()));
    g_free (path);
    return FALSE;
  }
  GST_DEBUG_OBJECT (self, "cascade loaded [path:%s]", path);
  g_free (path);

  st.faces.clear ();
  st.until_detect = 0;
  st.posted_faces = 0;
  st.posted_at = GST_CLOCK_TIME_NONE;
  return TRUE;
}

static gboolean
gst_atrium_face_detect_stop (GstBaseTransform * trans)
{
  GstAtriumFaceDetect *self = GST_ATRIUM_FACE_DETECT (trans);

  self->state.faces.clear ();
  self->state.small.release ();
  self->state.grey.release ();
  return TRUE;
}

static void
gst_atrium_face_detect_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstAtriumFaceDetect *self = GST_ATRIUM_FACE_DETECT (object);

  switch (prop_id) {
    case PROP_CASCADE:
      GST_OBJECT_LOCK (self);
      g_free (self->cascade_path);
      self->cascade_path = g_value_dup_string (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MODE:{
      GstAtriumFaceDetectMode mode =
          (GstAtriumFaceDetectMode) g_value_get_enum (value);
      GST_OBJECT_LOCK (self);
      self->mode = mode;
      GST_OBJECT_UNLOCK (self);
      /* Reporting only: no need for a writable buffer (no copy when the
       * buffer is shared). */
      gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self),
          mode == GST_ATRIUM_FACE_DETECT_MODE_NONE);
      break;
    }
    case PROP_MIN_SIZE:
      GST_OBJECT_LOCK (self);
      self->min_size = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_SCALE_FACTOR:
      GST_OBJECT_LOCK (self);
      self->scale_factor = g_value_get_double (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_INTERVAL:
      GST_OBJECT_LOCK (self);
      self->interval = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_DOWNSCALE:
      GST_OBJECT_LOCK (self);
      self->downscale = g_value_get_double (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_atrium_face_detect_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstAtriumFaceDetect *self = GST_ATRIUM_FACE_DETECT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_CASCADE:
      g_value_set_string (value, self->cascade_path);
      break;
    case PROP_MODE:
      g_value_set_enum (value, self->mode);
      break;
    case PROP_MIN_SIZE:
      g_value_set_uint (value, self->min_size);
      break;
    case PROP_SCALE_FACTOR:
      g_value_set_double (value, self->scale_factor);
      break;
    case PROP_INTERVAL:
      g_value_set_uint (value, self->interval);
      break;
    case PROP_DOWNSCALE:
      g_value_set_double (value, self->downscale);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_atrium_face_detect_finalize (GObject * object)
{
  GstAtriumFaceDetect *self = GST_ATRIUM_FACE_DETECT (object);

  g_free (self->cascade_path);
  self->state.~FaceDetectState ();
  G_OBJECT_CLASS (gst_atrium_face_detect_parent_class)->finalize (object);
}

static void
gst_atrium_face_detect_class_init (GstAtriumFaceDetectClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (atrium_facedetect_debug, "atrium-facedetect", 0,
      "Atrium face detection");

  gobject_class->set_property = gst_atrium_face_detect_set_property;
  gobject_class->get_property = gst_atrium_face_detect_get_property;
  gobject_class->finalize = gst_atrium_face_detect_finalize;

  g_object_class_install_property (gobject_class, PROP_CASCADE,
      g_param_spec_string ("cascade", "Cascade",
          "OpenCV Haar cascade file for frontal faces (loaded on start)",
          DEFAULT_CASCADE, (GParamFlags) (G_PARAM_READWRITE |
              GST_PARAM_MUTABLE_READY | G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property (gobject_class, PROP_MODE,
      g_param_spec_enum ("mode", "Mode", "What to do to each face",
          GST_TYPE_ATRIUM_FACE_DETECT_MODE, DEFAULT_MODE,
          (GParamFlags) (G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING |
              G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property (gobject_class, PROP_MIN_SIZE,
      g_param_spec_uint ("min-size", "Minimum size",
          "Smallest face to find, in pixels of the frame", 1, G_MAXINT,
          DEFAULT_MIN_SIZE, (GParamFlags) (G_PARAM_READWRITE |
              GST_PARAM_MUTABLE_PLAYING | G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property (gobject_class, PROP_SCALE_FACTOR,
      g_param_spec_double ("scale-factor", "Scale factor",
          "Size step between the cascade's passes (larger: faster, may miss "
          "faces)", 1.1, 2.0, DEFAULT_SCALE_FACTOR,
          (GParamFlags) (G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING |
              G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property (gobject_class, PROP_INTERVAL,
      g_param_spec_uint ("interval", "Interval",
          "Look for faces every this many frames, and treat the frames in "
          "between with the faces found last", 1, G_MAXINT, DEFAULT_INTERVAL,
          (GParamFlags) (G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING |
              G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property (gobject_class, PROP_DOWNSCALE,
      g_param_spec_double ("downscale", "Downscale",
          "Look for faces in a copy of the frame scaled by this", 0.1, 1.0,
          DEFAULT_DOWNSCALE, (GParamFlags) (G_PARAM_READWRITE |
              GST_PARAM_MUTABLE_PLAYING | G_PARAM_STATIC_STRINGS)));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Face detection", "Filter/Effect/Video",
      "Finds faces with a Haar cascade and blurs, pixelates or boxes them",
      "The Atrium authors");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_atrium_face_detect_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_atrium_face_detect_stop);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_atrium_face_detect_set_info);
  filter_class->transform_frame_ip =
      GST_DEBUG_FUNCPTR (gst_atrium_face_detect_transform_frame_ip);

  gst_type_mark_as_plugin_api (GST_TYPE_ATRIUM_FACE_DETECT_MODE,
      (GstPluginAPIFlags) 0);
}

static void
gst_atrium_face_detect_init (GstAtriumFaceDetect * self)
{
  new (&self->state) FaceDetectState ();
  self->cascade_path = g_strdup (DEFAULT_CASCADE);
  self->mode = DEFAULT_MODE;
  self->min_size = DEFAULT_MIN_SIZE;
  self->scale_factor = DEFAULT_SCALE_FACTOR;
  self->interval = DEFAULT_INTERVAL;
  self->downscale = DEFAULT_DOWNSCALE;
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}
