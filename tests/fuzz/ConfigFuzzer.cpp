// Fuzz target: atriumd's configuration file. The input is written to a file and loaded
// with Config::Load (GKeyFile, unknown groups/keys refused, typed values); the listen and
// ICE address strings of a loaded file go through their own parsers too. Bad files must
// end in ConfigError, never in a crash or a GLib CRITICAL. Validate() is left out: it
// touches the file system (TLS files, data directory).
#include "tests/fuzz/FuzzTarget.hpp"

#include "core/Config.hpp"

#include <glib.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include <string>

using namespace atrium;

namespace {
std::string path;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::InitCommon();
  gchar* name = nullptr;
  int fd = g_file_open_tmp("atrium-fuzz-config-XXXXXX.conf", &name, nullptr);
  if (fd < 0) abort();
  close(fd);
  path = name;
  g_free(name);
  atexit([] { g_unlink(path.c_str()); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (!g_file_set_contents(path.c_str(), reinterpret_cast<const char*>(data), gssize(size), nullptr)) abort();
  try {
    Config c = Config::Load(path);
    Config other;
    try {
      other.SetListen(c.listenHost + ":" + std::to_string(c.listenPort));
    } catch (const ConfigError&) {
    }
    try {
      std::string list;
      for (const auto& a : c.iceAddresses) list += (list.empty() ? "" : ",") + a;
      other.SetIceAddresses(list);
    } catch (const ConfigError&) {
    }
  } catch (const ConfigError&) {
  }
  // The raw input as a --listen and an --ice-addresses argument too.
  std::string text(reinterpret_cast<const char*>(data), size);
  Config c;
  try {
    c.SetListen(text);
  } catch (const ConfigError&) {
  }
  try {
    c.SetIceAddresses(text);
  } catch (const ConfigError&) {
  }
  return 0;
}
