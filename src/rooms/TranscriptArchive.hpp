// Keeps the final text of every transcribed utterance (store::Transcripts) with its room and
// meeting and the speaker as it was in the conference. Owned by the daemon; observes every
// conference; control thread.
#pragma once

#include "rooms/Conference.hpp"
#include "store/Database.hpp"

namespace atrium::rooms {

class TranscriptArchive : public Conference::TranscriptObserver {
public:
  explicit TranscriptArchive(store::Database& db) : db_(db) {}

  // Conference::TranscriptObserver
  void OnTranscript(Conference& c, const Conference::Participant& speaker,
                    const media::Transcriber::Utterance& u) override;

private:
  store::Database& db_;
};

}  // namespace atrium::rooms
