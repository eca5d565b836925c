-- Recordings as an archive: status 'finished' (was 'done'), the owner's organisation for
-- filtering, an error text for failed files, and the files of a `tracks` recording as rows
-- of their own (parent_id = the recording that recording.start returned; stream_id names
-- the stream). A `tracks` parent row has no file of its own (file_name '').
CREATE TABLE recordings_v4 (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  room_id      INTEGER REFERENCES rooms(id) ON DELETE SET NULL,
  meeting_id   INTEGER REFERENCES meetings(id) ON DELETE SET NULL,
  created_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
  org_id       INTEGER REFERENCES organisations(id) ON DELETE SET NULL,
  parent_id    INTEGER REFERENCES recordings_v4(id) ON DELETE CASCADE,
  stream_id    TEXT NOT NULL DEFAULT '',
  name         TEXT NOT NULL,
  format       TEXT NOT NULL CHECK (format IN ('webm', 'mp4')),
  layout       TEXT NOT NULL CHECK (layout IN ('composite', 'tracks')),
  file_name    TEXT NOT NULL,
  size_bytes   INTEGER NOT NULL DEFAULT 0,
  duration_ms  INTEGER NOT NULL DEFAULT 0,
  status       TEXT NOT NULL CHECK (status IN ('recording', 'finished', 'failed')),
  error        TEXT NOT NULL DEFAULT '',
  started_at   INTEGER NOT NULL,
  stopped_at   INTEGER
);
INSERT INTO recordings_v4 (id, room_id, meeting_id, created_by, name, format, layout, file_name, size_bytes,
                           duration_ms, status, started_at, stopped_at)
  SELECT id, room_id, meeting_id, created_by, name, format, layout, file_name, size_bytes, duration_ms,
         CASE status WHEN 'done' THEN 'finished' ELSE status END, started_at, stopped_at
  FROM recordings;
DROP TABLE recordings;
ALTER TABLE recordings_v4 RENAME TO recordings;
CREATE INDEX recordings_room ON recordings(room_id, started_at);
CREATE INDEX recordings_started ON recordings(started_at);
CREATE INDEX recordings_parent ON recordings(parent_id);
CREATE INDEX recordings_status ON recordings(status);
