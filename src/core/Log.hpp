// GStreamer debug categories, one per module, so that GST_DEBUG=atrium-rpc:5 works as
// GStreamer users expect. Log::Init() registers them once, after gst_init().
#pragma once

#include <gst/gst.h>

GST_DEBUG_CATEGORY_EXTERN(atrium_core_debug);
GST_DEBUG_CATEGORY_EXTERN(atrium_store_debug);
GST_DEBUG_CATEGORY_EXTERN(atrium_auth_debug);
GST_DEBUG_CATEGORY_EXTERN(atrium_rpc_debug);
GST_DEBUG_CATEGORY_EXTERN(atrium_rooms_debug);
GST_DEBUG_CATEGORY_EXTERN(atrium_media_debug);

namespace atrium::Log {
void Init();
}
