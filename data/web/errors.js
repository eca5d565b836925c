// Plain-language messages for the server's error replies (codes in docs/protocol.md,
// "Errors") and for the page's own connection failures.
import { CONNECTION_LOST, TIMED_OUT } from './jsonrpc.js';

export const Code = {
  methodNotFound: -32601,
  invalidParams: -32602,
  unauthenticated: -32001,
  forbidden: -32002,
  notFound: -32003,
  conflict: -32004,
  wrongPassword: -32005,
  roomFull: -32006,
  rateLimited: -32007,
  tooLarge: -32008,
  unavailable: -32009,
  notJoined: -32010,
};

export function messageFor(err) {
  const d = (err && err.data) || {};
  switch (err && err.code) {
    case CONNECTION_LOST: return 'The connection to the server was lost.';
    case TIMED_OUT: return 'The server did not answer in time.';
    case Code.invalidParams:
      if (d.param === 'displayName') return 'Please enter your name.';
      if (d.param) return `Please check "${d.param}": expected ${d.expected || 'another value'}.`;
      return err.message;
    case Code.unauthenticated:
      return d.reason === 'expired' ? 'Your sign-in has expired; please sign in again.' : 'Please sign in.';
    case Code.forbidden:
      if (d.kicked) return 'A host removed you from this meeting.';
      if (d.muted) return 'A host muted you.';
      if (d.videoDisabled) return 'A host turned your video off.';
      if (d.roomId) return 'This room is private: you are not allowed to enter it.';
      return `Not allowed: ${err.message}.`;
    case Code.notFound:
      if (d.code) return 'There is no meeting with this invite code.';
      if (d.roomId) return 'This room does not exist.';
      if (d.meetingId) return 'This meeting does not exist.';
      return `Not found: ${err.message}.`;
    case Code.conflict:
      if (d.meetingId && err.method === 'conference.join') return 'This meeting has ended.';
      if (d.roomId && err.method === 'room.update') return 'The mode cannot change while the room is live.';
      if (d.roomId && err.method === 'room.delete') return 'A live room cannot be deleted.';
      return `Not possible now: ${err.message}.`;
    case Code.wrongPassword:
      if (d.pinRequired) return 'This meeting needs its PIN.';
      if (d.passwordRequired) return 'This room needs its password.';
      return err.method === 'auth.login' ? 'Wrong account or password.' : 'Wrong password.';
    case Code.roomFull:
      return d.numberLimit ? `The room is full (${d.numberLimit} participants at most).` : 'The room is full.';
    case Code.rateLimited: return 'Too many requests; please wait a moment.';
    case Code.notJoined: return 'You are no longer in the meeting.';
    case Code.unavailable: return 'The server cannot do this right now; try again.';
    default: return (err && err.message) || String(err);
  }
}

// True for a reply that says the server has no such method (a feature it lacks).
export const isMissingMethod = (err) => err && err.code === Code.methodNotFound;
