#include "core/Log.hpp"

GST_DEBUG_CATEGORY(atrium_core_debug);
GST_DEBUG_CATEGORY(atrium_store_debug);
GST_DEBUG_CATEGORY(atrium_auth_debug);
GST_DEBUG_CATEGORY(atrium_rpc_debug);
GST_DEBUG_CATEGORY(atrium_rooms_debug);
GST_DEBUG_CATEGORY(atrium_media_debug);

namespace atrium::Log {

void Init() {
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(atrium_core_debug, "atrium-core", 0, "Atrium core");
    GST_DEBUG_CATEGORY_INIT(atrium_store_debug, "atrium-store", 0, "Atrium SQLite store");
    GST_DEBUG_CATEGORY_INIT(atrium_auth_debug, "atrium-auth", 0, "Atrium passwords and tokens");
    GST_DEBUG_CATEGORY_INIT(atrium_rpc_debug, "atrium-rpc", 0, "Atrium JSON-RPC server");
    GST_DEBUG_CATEGORY_INIT(atrium_rooms_debug, "atrium-rooms", 0, "Atrium rooms and meetings");
    GST_DEBUG_CATEGORY_INIT(atrium_media_debug, "atrium-media", 0, "Atrium media pipelines");
    g_once_init_leave(&once, 1);
  }
}

}  // namespace atrium::Log
