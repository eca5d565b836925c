// main() for fuzz targets in builds without libFuzzer: runs every file named on the command
// line, or found in a directory named there, through the target once. The `fuzz-replay`
// tests run each target over its checked-in corpus this way.
#include "tests/fuzz/FuzzTarget.hpp"

#include <glib.h>

#include <cstdio>
#include <string>
#include <vector>

namespace {

void Collect(const std::string& path, std::vector<std::string>& out) {
  if (!g_file_test(path.c_str(), G_FILE_TEST_IS_DIR)) {
    out.push_back(path);
    return;
  }
  GDir* dir = g_dir_open(path.c_str(), 0, nullptr);
  if (!dir) return;
  while (const char* name = g_dir_read_name(dir)) Collect(path + "/" + name, out);
  g_dir_close(dir);
}

}  // namespace

int main(int argc, char** argv) {
  LLVMFuzzerInitialize(&argc, &argv);
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) Collect(argv[i], files);
  for (const auto& f : files) {
    gchar* data = nullptr;
    gsize len = 0;
    if (!g_file_get_contents(f.c_str(), &data, &len, nullptr)) {
      fprintf(stderr, "cannot read %s\n", f.c_str());
      return 1;
    }
    fprintf(stderr, "running %s (%zu bytes)\n", f.c_str(), size_t(len));
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(data), len);
    g_free(data);
  }
  fprintf(stderr, "%zu inputs ran without a crash\n", files.size());
  return files.empty() ? 1 : 0;
}
