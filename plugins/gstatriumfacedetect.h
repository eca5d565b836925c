/* atriumfacedetect: finds faces and blurs, pixelates or boxes them. */
#ifndef __GST_ATRIUM_FACE_DETECT_H__
#define __GST_ATRIUM_FACE_DETECT_H__

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

/* What the element does to each face it finds. */
typedef enum
{
  GST_ATRIUM_FACE_DETECT_MODE_BLUR,
  GST_ATRIUM_FACE_DETECT_MODE_PIXELATE,
  GST_ATRIUM_FACE_DETECT_MODE_BOX,
  GST_ATRIUM_FACE_DETECT_MODE_NONE,
} GstAtriumFaceDetectMode;

#define GST_TYPE_ATRIUM_FACE_DETECT_MODE (gst_atrium_face_detect_mode_get_type ())
GType gst_atrium_face_detect_mode_get_type (void);

#define GST_TYPE_ATRIUM_FACE_DETECT (gst_atrium_face_detect_get_type ())
G_DECLARE_FINAL_TYPE (GstAtriumFaceDetect, gst_atrium_face_detect,
    GST, ATRIUM_FACE_DETECT, GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE (atriumfacedetect);

G_END_DECLS

#endif /* __GST_ATRIUM_FACE_DETECT_H__ */
