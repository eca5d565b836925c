-- Atrium schema, version 2: chat messages and meeting files of a room.
-- A message is to the room (recipient columns NULL) or private to one participant;
-- private messages are shown to their two parties only. A sender or recipient is a
-- signed-in user (user id) or a guest, known only by its participant id while the
-- conference lasts. Files are stored under <data-dir>/files/<id>, named from the id.

CREATE TABLE meeting_files (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  room_id      INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
  meeting_id   INTEGER REFERENCES meetings(id) ON DELETE SET NULL,
  uploaded_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
  name         TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size_bytes   INTEGER NOT NULL,
  created_at   INTEGER NOT NULL
);
CREATE INDEX meeting_files_room ON meeting_files(room_id, id);

CREATE TABLE chat_messages (
  id                      INTEGER PRIMARY KEY AUTOINCREMENT,
  room_id                 INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
  meeting_id              INTEGER REFERENCES meetings(id) ON DELETE SET NULL,
  sender_user_id          INTEGER REFERENCES users(id) ON DELETE SET NULL,
  sender_participant_id   TEXT NOT NULL,
  sender_name             TEXT NOT NULL,
  recipient_user_id       INTEGER REFERENCES users(id) ON DELETE SET NULL,
  recipient_participant_id TEXT,
  recipient_name          TEXT,
  content                 TEXT NOT NULL,
  file_id                 INTEGER REFERENCES meeting_files(id) ON DELETE SET NULL,
  created_at              INTEGER NOT NULL
);
CREATE INDEX chat_messages_room ON chat_messages(room_id, id);
