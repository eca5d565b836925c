// Plain rows as the repositories read and write them. Times are Unix seconds (UTC).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace atrium::store {

struct Page {
  int64_t offset = 0;
  int64_t limit = 50;
};

template <typename T>
struct PageOf {
  std::vector<T> items;
  int64_t total = 0;
};

struct Organisation {
  int64_t id = 0;
  std::string name;
  int64_t createdAt = 0;
};

struct User {
  int64_t id = 0;
  int64_t orgId = 1;
  std::string account;
  std::string name;
  std::string email;
  std::string phone;
  std::string passwordHash;
  bool admin = false;
  std::optional<std::string> externalApp;
  std::optional<std::string> externalId;
  int64_t createdAt = 0;
  int64_t updatedAt = 0;
};

struct Room {
  int64_t id = 0;
  int64_t orgId = 1;
  std::optional<int64_t> ownerId;
  std::string name;
  std::string mode = "sfu";
  int64_t type = 2;
  std::string definition = "720p";
  int64_t numberLimit = 16;
  bool isPublic = false;
  std::optional<std::string> passwordHash;
  std::string description;
  std::string logo;
  int64_t createdAt = 0;
  int64_t updatedAt = 0;
};

struct Member {
  int64_t userId = 0;
  std::string role;  // host, speaker, attendee
  std::string account;
  std::string name;
};

struct Meeting {
  int64_t id = 0;
  int64_t roomId = 0;
  std::optional<int64_t> ownerId;
  std::string name;
  std::string description;
  int64_t type = 2;
  std::string definition = "720p";
  int64_t startTime = 0;
  int64_t endTime = 0;
  std::optional<std::string> pinHash;
  std::string inviteCode;
  std::string topics = "[]";  // a JSON array of strings
  bool instant = false;
  std::optional<int64_t> endedAt;
  int64_t createdAt = 0;
  int64_t updatedAt = 0;
  std::vector<Member> members;
};

struct Recording {
  int64_t id = 0;
  std::optional<int64_t> roomId;
  std::optional<int64_t> meetingId;
  std::optional<int64_t> createdBy;
  std::optional<int64_t> orgId;
  std::optional<int64_t> parentId;  // the `tracks` recording this file belongs to
  std::string streamId;             // the stream a `tracks` file holds
  std::string name;
  std::string format;
  std::string layout;
  std::string fileName;
  int64_t sizeBytes = 0;
  int64_t durationMs = 0;
  std::string status;  // recording, finished, failed
  std::string error;
  int64_t startedAt = 0;
  std::optional<int64_t> stoppedAt;
};

struct RecordingFilter {
  std::optional<int64_t> orgId;
  std::optional<int64_t> userId;
  std::optional<std::string> name;  // substring
  std::optional<int64_t> startDate;
  std::optional<int64_t> endDate;
};

struct App {
  int64_t id = 0;
  std::string appId;
  std::string name;
  int64_t orgId = 1;
  std::string secretHash;
  int64_t createdAt = 0;
};

int64_t Now();

}  // namespace atrium::store
