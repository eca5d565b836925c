/* What atriumfacedetect and atriummotiondetect share: an OpenCV view of a
 * mapped packed-RGB video frame, its grey copy and colours in its byte order.
 * C++ only; included by the elements' .cpp files, not by gstatrium.c. */
#ifndef __GST_ATRIUM_CV_H__
#define __GST_ATRIUM_CV_H__

#include <gst/video/video.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

/* The packed RGB formats both elements take: 3 or 4 bytes a pixel, in any
 * order; the padding byte of the 4-byte ones is left as it is. */
#define GST_ATRIUM_CV_CAPS \
  GST_VIDEO_CAPS_MAKE ("{ BGRx, RGBx, xRGB, xBGR, BGR, RGB }")

/* The frame's pixels, not a copy: writing to the Mat writes to the frame. */
static inline cv::Mat
gst_atrium_cv_frame_mat (GstVideoFrame * frame)
{
  return cv::Mat (GST_VIDEO_FRAME_HEIGHT (frame), GST_VIDEO_FRAME_WIDTH (frame),
      CV_8UC (GST_VIDEO_FRAME_COMP_PSTRIDE (frame, 0)),
      GST_VIDEO_FRAME_PLANE_DATA (frame, 0),
      GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0));
}

/* A pixel value of the frame's layout with the given colour (padding 255). */
static inline cv::Scalar
gst_atrium_cv_colour (const GstVideoInfo * info, double r, double g, double b)
{
  cv::Scalar colour (255, 255, 255, 255);

  colour[GST_VIDEO_INFO_COMP_POFFSET (info, GST_VIDEO_COMP_R)] = r;
  colour[GST_VIDEO_INFO_COMP_POFFSET (info, GST_VIDEO_COMP_G)] = g;
  colour[GST_VIDEO_INFO_COMP_POFFSET (info, GST_VIDEO_COMP_B)] = b;
  return colour;
}

/* Luma (BT.601 weights) of a 3- or 4-byte image in the frame's byte order,
 * whichever byte R, G and B sit at: one weighted sum per pixel. */
static inline void
gst_atrium_cv_to_grey (const GstVideoInfo * info, const cv::Mat & src,
    cv::Mat & grey)
{
  cv::Mat weights = cv::Mat::zeros (1, src.channels (), CV_32F);

  weights.at < float >(GST_VIDEO_INFO_COMP_POFFSET (info, GST_VIDEO_COMP_R)) =
      0.299f;
  weights.at < float >(GST_VIDEO_INFO_COMP_POFFSET (info, GST_VIDEO_COMP_G)) =
      0.587f;
  weights.at < float >(GST_VIDEO_INFO_COMP_POFFSET (info, GST_VIDEO_COMP_B)) =
      0.114f;
  cv::transform (src, grey, weights);
}

/* A buffer's running time in its segment, or GST_CLOCK_TIME_NONE. */
static inline GstClockTime
gst_atrium_cv_running_time (GstBaseTransform * trans, GstBuffer * buf)
{
  if (trans->segment.format != GST_FORMAT_TIME
      || !GST_BUFFER_PTS_IS_VALID (buf))
    return GST_CLOCK_TIME_NONE;
  return gst_segment_to_running_time (&trans->segment, GST_FORMAT_TIME,
      GST_BUFFER_PTS (buf));
}

#endif /* __GST_ATRIUM_CV_H__ */
