// Fuzz target: the HTTP Range header parser of file downloads (recordings, shared files).
// The first 8 input bytes are the file size, the rest the header value. Whatever the
// input, a Partial answer holds 1..kMaxRanges ranges inside the file, and the
// Content-Disposition for the same bytes as a file name is printable ASCII with no line
// break (it goes into a response header).
#include "tests/fuzz/FuzzTarget.hpp"

#include "rpc/FileServe.hpp"

#include <cstdlib>
#include <cstring>
#include <string>

using namespace atrium;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::InitCommon();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uint64_t fileSize = 0;
  if (size >= 8) {
    memcpy(&fileSize, data, 8);
    data += 8;
    size -= 8;
  }
  // Mostly small sizes, where the edges are; sometimes huge ones.
  if (fileSize >> 63) fileSize &= 0x7fffffffffffffffULL; else fileSize %= 1 << 20;
  std::string header(reinterpret_cast<const char*>(data), size);
  rpc::RangeRequest r = rpc::ParseRange(header, fileSize);
  switch (r.kind) {
    case rpc::RangeRequest::Kind::Partial:
      if (r.ranges.empty() || r.ranges.size() > rpc::kMaxRanges) abort();
      for (const auto& b : r.ranges)
        if (b.first > b.last || b.last >= fileSize) abort();
      break;
    case rpc::RangeRequest::Kind::Unsatisfiable:
    case rpc::RangeRequest::Kind::Whole:
      if (!r.ranges.empty() && r.kind == rpc::RangeRequest::Kind::Whole) abort();
      break;
  }
  std::string cd = rpc::ContentDisposition(header);
  for (unsigned char c : cd)
    if (c < 0x20 || c >= 0x7f) abort();
  return 0;
}
