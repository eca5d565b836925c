// Shared main for every GoogleTest binary: initialises GStreamer and Atrium's debug
// categories, and turns GLib CRITICAL and WARNING messages into test failures.
#include "core/Log.hpp"

#include <gst/gst.h>
#include <gtest/gtest.h>

namespace {

GLogWriterOutput FailOnWarnings(GLogLevelFlags level, const GLogField* fields, gsize n, gpointer) {
  if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_LEVEL_ERROR)) {
    const char* domain = "";
    const char* message = "";
    for (gsize i = 0; i < n; ++i) {
      if (g_strcmp0(fields[i].key, "GLIB_DOMAIN") == 0) domain = static_cast<const char*>(fields[i].value);
      if (g_strcmp0(fields[i].key, "MESSAGE") == 0) message = static_cast<const char*>(fields[i].value);
    }
    ADD_FAILURE() << "GLib " << ((level & G_LOG_LEVEL_WARNING) ? "WARNING" : "CRITICAL") << " ["
                  << domain << "] " << message;
  }
  return g_log_writer_default(level, fields, n, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  gst_init(&argc, &argv);
  atrium::Log::Init();
  g_log_set_writer_func(FailOnWarnings, nullptr, nullptr);
  return RUN_ALL_TESTS();
}
