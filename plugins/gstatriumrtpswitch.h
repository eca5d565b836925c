/* atriumrtpswitch: one continuous RTP stream out of N inputs, switched at
 * keyframes (simulcast layers, voice-activated speaker). */
#ifndef __GST_ATRIUM_RTP_SWITCH_H__
#define __GST_ATRIUM_RTP_SWITCH_H__

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_ATRIUM_RTP_SWITCH (gst_atrium_rtp_switch_get_type ())
G_DECLARE_FINAL_TYPE (GstAtriumRtpSwitch, gst_atrium_rtp_switch,
    GST, ATRIUM_RTP_SWITCH, GstElement)

#define GST_TYPE_ATRIUM_RTP_SWITCH_PAD (gst_atrium_rtp_switch_pad_get_type ())
G_DECLARE_FINAL_TYPE (GstAtriumRtpSwitchPad, gst_atrium_rtp_switch_pad,
    GST, ATRIUM_RTP_SWITCH_PAD, GstPad)

GST_ELEMENT_REGISTER_DECLARE (atriumrtpswitch);

G_END_DECLS

#endif /* __GST_ATRIUM_RTP_SWITCH_H__ */
