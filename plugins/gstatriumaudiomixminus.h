/* atriumaudiomixminus: one mix-minus output per input, in O(N). */
#ifndef __GST_ATRIUM_AUDIO_MIX_MINUS_H__
#define __GST_ATRIUM_AUDIO_MIX_MINUS_H__

#include <gst/gst.h>
#include <gst/audio/audio.h>
#include <gst/audio/gstaudioaggregator.h>

G_BEGIN_DECLS

#define GST_TYPE_ATRIUM_AUDIO_MIX_MINUS (gst_atrium_audio_mix_minus_get_type ())
G_DECLARE_FINAL_TYPE (GstAtriumAudioMixMinus, gst_atrium_audio_mix_minus,
    GST, ATRIUM_AUDIO_MIX_MINUS, GstAudioAggregator)

#define GST_TYPE_ATRIUM_AUDIO_MIX_MINUS_PAD (gst_atrium_audio_mix_minus_pad_get_type ())
G_DECLARE_FINAL_TYPE (GstAtriumAudioMixMinusPad, gst_atrium_audio_mix_minus_pad,
    GST, ATRIUM_AUDIO_MIX_MINUS_PAD, GstAudioAggregatorConvertPad)

GST_ELEMENT_REGISTER_DECLARE (atriumaudiomixminus);

G_END_DECLS

#endif /* __GST_ATRIUM_AUDIO_MIX_MINUS_H__ */
