-- Atrium schema, version 1: organisations, users, rooms and members, scheduled meetings,
-- recordings metadata, third-party apps and revoked tokens. Times are Unix seconds (UTC).
-- Ids are never reused (AUTOINCREMENT): a token or grant naming a deleted user or room
-- must not reach the next one created.

CREATE TABLE organisations (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  name        TEXT NOT NULL UNIQUE,
  created_at  INTEGER NOT NULL
);

CREATE TABLE users (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id         INTEGER NOT NULL REFERENCES organisations(id) ON DELETE RESTRICT,
  account        TEXT NOT NULL UNIQUE,
  name           TEXT NOT NULL,
  email          TEXT NOT NULL DEFAULT '',
  phone          TEXT NOT NULL DEFAULT '',
  password_hash  TEXT NOT NULL,
  is_admin       INTEGER NOT NULL DEFAULT 0,
  external_app   TEXT,
  external_id    TEXT,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  UNIQUE (external_app, external_id)
);
CREATE INDEX users_org ON users(org_id, id);

CREATE TABLE rooms (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id         INTEGER NOT NULL REFERENCES organisations(id) ON DELETE RESTRICT,
  owner_id       INTEGER REFERENCES users(id) ON DELETE SET NULL,
  name           TEXT NOT NULL,
  mode           TEXT NOT NULL CHECK (mode IN ('sfu', 'mcu')),
  type           INTEGER NOT NULL CHECK (type IN (1, 2, 3)),
  definition     TEXT NOT NULL CHECK (definition IN ('1080p', '720p', '480p', '240p')),
  number_limit   INTEGER NOT NULL CHECK (number_limit > 0),
  is_public      INTEGER NOT NULL DEFAULT 0,
  password_hash  TEXT,
  description    TEXT NOT NULL DEFAULT '',
  logo           TEXT NOT NULL DEFAULT '',
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);
CREATE INDEX rooms_owner ON rooms(owner_id);

CREATE TABLE room_members (
  room_id   INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
  user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role      TEXT NOT NULL CHECK (role IN ('host', 'speaker', 'attendee')),
  added_at  INTEGER NOT NULL,
  PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_user ON room_members(user_id);

CREATE TABLE meetings (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  room_id      INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
  owner_id     INTEGER REFERENCES users(id) ON DELETE SET NULL,
  name         TEXT NOT NULL,
  description  TEXT NOT NULL DEFAULT '',
  type         INTEGER NOT NULL CHECK (type IN (1, 2, 3)),
  definition   TEXT NOT NULL CHECK (definition IN ('1080p', '720p', '480p', '240p')),
  start_time   INTEGER NOT NULL,
  end_time     INTEGER NOT NULL CHECK (end_time > start_time),
  pin_hash     TEXT,
  invite_code  TEXT NOT NULL UNIQUE,
  topics       TEXT NOT NULL DEFAULT '[]',
  instant      INTEGER NOT NULL DEFAULT 0,
  ended_at     INTEGER,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
);
CREATE INDEX meetings_start ON meetings(start_time, id);
CREATE INDEX meetings_room ON meetings(room_id, start_time);

CREATE TABLE meeting_members (
  meeting_id  INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
  user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role        TEXT NOT NULL CHECK (role IN ('host', 'speaker', 'attendee')),
  PRIMARY KEY (meeting_id, user_id)
);
CREATE INDEX meeting_members_user ON meeting_members(user_id);

CREATE TABLE recordings (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  room_id      INTEGER REFERENCES rooms(id) ON DELETE SET NULL,
  meeting_id   INTEGER REFERENCES meetings(id) ON DELETE SET NULL,
  created_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
  name         TEXT NOT NULL,
  format       TEXT NOT NULL CHECK (format IN ('webm', 'mp4')),
  layout       TEXT NOT NULL CHECK (layout IN ('composite', 'tracks')),
  file_name    TEXT NOT NULL,
  size_bytes   INTEGER NOT NULL DEFAULT 0,
  duration_ms  INTEGER NOT NULL DEFAULT 0,
  status       TEXT NOT NULL CHECK (status IN ('recording', 'done', 'failed')),
  started_at   INTEGER NOT NULL,
  stopped_at   INTEGER
);
CREATE INDEX recordings_room ON recordings(room_id, started_at);

CREATE TABLE apps (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  app_id       TEXT NOT NULL UNIQUE,
  name         TEXT NOT NULL,
  org_id       INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  secret_hash  TEXT NOT NULL,
  created_at   INTEGER NOT NULL
);

CREATE TABLE revoked_tokens (
  jti         TEXT PRIMARY KEY,
  expires_at  INTEGER NOT NULL
);

INSERT INTO organisations (id, name, created_at) VALUES (1, 'default', strftime('%s', 'now'));
