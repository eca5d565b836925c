-- Live transcription: the final text of each utterance, per speaker, kept with the room and
-- its meeting so that it can be read back after the conference (transcript.list). The
-- speaker is kept as it was in the conference: its participant id and display name, and its
-- user id when it was signed in. Times: start_ms and end_ms are Unix milliseconds of the
-- speech (as the recogniser placed it), created_at Unix seconds.
CREATE TABLE transcripts (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  room_id         INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
  meeting_id      INTEGER REFERENCES meetings(id) ON DELETE SET NULL,
  participant_id  TEXT NOT NULL,
  participant_name TEXT NOT NULL,
  user_id         INTEGER REFERENCES users(id) ON DELETE SET NULL,
  stream_id       TEXT NOT NULL,
  segment_id      INTEGER NOT NULL,
  text            TEXT NOT NULL,
  start_ms        INTEGER NOT NULL,
  end_ms          INTEGER NOT NULL,
  created_at      INTEGER NOT NULL
);
CREATE INDEX transcripts_room ON transcripts(room_id, start_ms);
