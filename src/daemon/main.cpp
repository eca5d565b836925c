// atriumd: the Atrium media server. Reads /etc/atrium/atrium.conf (or --config), applies
// command-line overrides, and serves until SIGINT/SIGTERM.
#include "atrium-config.h"
#include "core/Error.hpp"
#include "core/Log.hpp"
#include "daemon/Daemon.hpp"
#include "gstatrium.h"
#include "media/McuProfile.hpp"
#include "media/RecordingProfile.hpp"
#include "media/TranscodeProfile.hpp"

#include <glib-unix.h>
#include <gst/gst.h>

#include <cstdio>

namespace {

gboolean Quit(gpointer loop) {
  g_main_loop_quit(static_cast<GMainLoop*>(loop));
  return G_SOURCE_REMOVE;
}

}  // namespace

int main(int argc, char** argv) {
  gchar* configPath = nullptr;
  gchar* listen = nullptr;
  gchar* dataDir = nullptr;
  gchar* webRoot = nullptr;
  gchar* iceAddresses = nullptr;
  gboolean checkConfig = FALSE;
  gboolean version = FALSE;
  GOptionEntry entries[] = {
      {"config", 'c', 0, G_OPTION_ARG_FILENAME, &configPath, "Configuration file (default " ATRIUM_SYSCONFDIR "/atrium.conf)", "FILE"},
      {"listen", 'l', 0, G_OPTION_ARG_STRING, &listen, "Address to listen on (default 127.0.0.1:8088)", "HOST:PORT"},
      {"data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &dataDir, "Data directory (database and secrets)", "DIR"},
      {"web-root", 0, 0, G_OPTION_ARG_FILENAME, &webRoot, "Folder of the web client served at /", "DIR"},
      {"ice-addresses", 0, 0, G_OPTION_ARG_STRING, &iceAddresses, "Local addresses ICE gathers on", "IP,IP"},
      {"check-config", 0, 0, G_OPTION_ARG_NONE, &checkConfig, "Validate the configuration and exit", nullptr},
      {"version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", nullptr},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  GOptionContext* ctx = g_option_context_new("- the Atrium media server");
  g_option_context_add_main_entries(ctx, entries, nullptr);
  g_option_context_add_group(ctx, gst_init_get_option_group());
  GError* err = nullptr;
  if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
    std::fprintf(stderr, "atriumd: %s\n", err->message);
    g_error_free(err);
    return 2;
  }
  g_option_context_free(ctx);
  if (version) {
    std::printf("atriumd %s\n", ATRIUM_VERSION);
    return 0;
  }
  gst_init(&argc, &argv);
  atrium::Log::Init();

  atrium::Config config;
  try {
    std::string path = configPath ? configPath : ATRIUM_SYSCONFDIR "/atrium.conf";
    if (configPath || g_file_test(path.c_str(), G_FILE_TEST_EXISTS)) config = atrium::Config::Load(path);
    if (listen) config.SetListen(listen);
    if (dataDir) config.dataDir = dataDir;
    if (webRoot) config.webRoot = webRoot;
    if (iceAddresses) config.SetIceAddresses(iceAddresses);
    config.Validate();
    // Our elements, from this binary rather than the system plugin path; then the MCU and
    // transcoding encoder profiles, checked now so that a bad edit stops start-up, not a room.
    gst_atrium_register_static();
    atrium::media::McuProfile::Install(atrium::media::McuProfile::Load(atrium::media::McuProfile::DefaultPath()));
    atrium::media::TranscodeProfile::Install(
        atrium::media::TranscodeProfile::Load(atrium::media::TranscodeProfile::DefaultPath()));
    if (checkConfig) {
      atrium::media::LoadRecordingProfiles(atrium::media::DefaultPipelinesDir());
      std::printf("atriumd: configuration OK%s%s\n", config.sourcePath.empty() ? "" : ": ",
                  config.sourcePath.c_str());
      return 0;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "atriumd: configuration error: %s\n", e.what());
    return 1;
  }

  GMainLoop* loop = g_main_loop_new(nullptr, FALSE);
  g_unix_signal_add(SIGINT, Quit, loop);
  g_unix_signal_add(SIGTERM, Quit, loop);
  int rc = 0;
  try {
    atrium::Daemon daemon(config);
    if (const auto& pw = daemon.generatedAdminPassword())
      std::fprintf(stderr,
                   "atriumd: created administrator 'admin' with password: %s\n"
                   "atriumd: (shown once; set ATRIUM_ADMIN_PASSWORD before the first start to choose it)\n",
                   pw->c_str());
    std::fprintf(stderr, "atriumd %s: listening on %s (data in %s)\n", ATRIUM_VERSION, daemon.server().url().c_str(),
                 config.dataDir.c_str());
    g_main_loop_run(loop);
    std::fprintf(stderr, "atriumd: stopping\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "atriumd: %s\n", e.what());
    rc = 1;
  }
  g_main_loop_unref(loop);
  // Every room is gone by now: what GStreamer still holds is reported by its leaks tracer
  // (GST_TRACERS=leaks) here, and freed for memory checkers.
  gst_deinit();
  return rc;
}
