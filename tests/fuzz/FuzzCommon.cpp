#include "tests/fuzz/FuzzTarget.hpp"

#include "core/Log.hpp"

#include <gst/gst.h>

namespace atrium::fuzz {

void InitCommon() {
  gst_init(nullptr, nullptr);
  Log::Init();
  g_log_set_always_fatal(GLogLevelFlags(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_LEVEL_ERROR));
  // Structured logging (g_log_structured, used by GLib itself) ignores always_fatal.
  g_log_set_writer_func(
      [](GLogLevelFlags level, const GLogField* fields, gsize n, gpointer) {
        GLogWriterOutput r = g_log_writer_default(level, fields, n, nullptr);
        if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_LEVEL_ERROR)) abort();
        return r;
      },
      nullptr, nullptr);
}

}  // namespace atrium::fuzz
