// Serving a file from disk over HTTP: GET and HEAD, byte ranges (RFC 9110 section 14:
// one range as 206, several as multipart/byteranges, none satisfiable as 416), If-Range,
// ETag and Last-Modified, and a Content-Disposition with the file's display name. The
// body is read in chunks as libsoup writes it, so memory stays flat whatever the size.
#pragma once

#include <libsoup/soup.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace atrium::rpc {

struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;  // inclusive
  uint64_t length() const { return last - first + 1; }
};

struct RangeRequest {
  enum class Kind { Whole, Partial, Unsatisfiable };
  Kind kind = Kind::Whole;
  std::vector<ByteRange> ranges;  // Partial: in the order asked, each clipped to the file
};

// More ranges than this in one request are ignored (the whole file is served).
constexpr size_t kMaxRanges = 16;

// Parses a Range header value against a representation of `size` bytes. A value that
// is not a valid `bytes=` range set is ignored (Whole), as the RFC allows; ranges that
// start past the end are dropped, and when none is left the request is Unsatisfiable.
RangeRequest ParseRange(std::string_view header, uint64_t size);

// Content-Disposition for a download named `name` (any UTF-8): an ASCII fallback
// plus RFC 5987 filename*.
std::string ContentDisposition(const std::string& name, bool attachment = true);

// Answers `msg` (GET or HEAD; anything else gets 405) with the regular file at `path`.
// The caller has already decided that the client may read it. A missing or unreadable
// file answers 404. Returns the status set.
int ServeFile(SoupServerMessage* msg, const std::string& path, const std::string& contentType,
              const std::string& downloadName, bool attachment = true);

}  // namespace atrium::rpc
