/* atriummotiondetect: tells when something starts and stops moving. */
#ifndef __GST_ATRIUM_MOTION_DETECT_H__
#define __GST_ATRIUM_MOTION_DETECT_H__

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

#define GST_TYPE_ATRIUM_MOTION_DETECT (gst_atrium_motion_detect_get_type ())
G_DECLARE_FINAL_TYPE (GstAtriumMotionDetect, gst_atrium_motion_detect,
    GST, ATRIUM_MOTION_DETECT, GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE (atriummotiondetect);

G_END_DECLS

#endif /* __GST_ATRIUM_MOTION_DETECT_H__ */
