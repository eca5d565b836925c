// What every fuzz target in tests/fuzz provides: libFuzzer's entry points. With
// -Dfuzzing=true (clang) libFuzzer supplies main(); otherwise ReplayMain.cpp does, and
// runs each checked-in corpus file once, so that crashes found earlier stay fixed in
// every build.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv);
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace atrium::fuzz {

// gst_init, Atrium's debug categories, and GLib CRITICAL/WARNING made fatal: a fuzz input
// that makes GLib complain is a finding like a crash.
void InitCommon();

}  // namespace atrium::fuzz
