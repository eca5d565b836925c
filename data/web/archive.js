// Recordings, where the server records (recording.*): the archive page (search by name
// and date, paged, download with progress, delete) and the meeting's Record button for
// hosts, with a "Recording" sign for everyone while one runs. Enabled when
// session.has('recording').
import { $, el, dateTime, clock } from './dom.js';
import { session } from './session.js';
import { messageFor, Code } from './errors.js';

const PAGE_SIZE = 10;
let pageNo = 1;
let filter = {};

const size = (n) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : `${Math.ceil(n / 1024)} kB`);
const dayStart = (v) => Math.floor(new Date(`${v}T00:00:00`).getTime() / 1000);

// Downloads one file with a progress bar; the browser then saves it.
async function download(file, name, progress) {
  progress.hidden = false;
  progress.value = 0;
  const res = await fetch(file.downloadPath, { headers: { authorization: `Bearer ${session.token}` } });
  if (!res.ok) throw new Error(`the download failed (HTTP ${res.status})`);
  const total = Number(res.headers.get('content-length')) || file.sizeBytes || 0;
  const reader = res.body.getReader();
  const chunks = [];
  let got = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    got += value.length;
    if (total) progress.value = Math.min(100, (100 * got) / total);
  }
  progress.value = 100;
  const blob = new Blob(chunks, { type: res.headers.get('content-type') || 'application/octet-stream' });
  const a = el('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60000);
}

function fileRow(rec, file, label) {
  const progress = el('progress', { max: 100, value: 0, hidden: true, 'aria-label': `Download progress of ${label}` });
  const name = `${rec.name.replace(/[^\w.-]+/g, '_')}-${file.recordingId}.${file.format}`;
  return el('li', { class: 'file' }, `${label}: ${file.durationMs ? clock(file.durationMs / 1000) : '–'}, ${size(file.sizeBytes || 0)} `,
    file.downloadPath ? el('button', { type: 'button', 'aria-label': `Download ${label} of ${rec.name}`, onclick: async (ev) => {
      ev.target.disabled = true;
      try { await download(file, name, progress); } catch (e) { $('rec-error').textContent = e.message; }
      ev.target.disabled = false;
    } }, 'Download') : null, progress);
}

async function remove(rec) {
  if (!confirm(`Delete the recording "${rec.name}"?`)) return;
  try {
    await session.rpc.call('recording.delete', { recordingIds: [rec.recordingId] });
    await showRecordings();
  } catch (e) { $('rec-error').textContent = messageFor(e); }
}

export async function showRecordings() {
  $('rec-error').textContent = '';
  let r;
  try {
    r = await session.rpc.call('recording.list', { ...filter, pageNo, pageSize: PAGE_SIZE });
  } catch (e) {
    $('rec-error').textContent = messageFor(e);
    return;
  }
  $('rec-list').replaceChildren(...r.recordList.map((rec) => {
    const files = rec.files ? rec.files : [rec];
    return el('li', { class: 'recording', dataset: { recording: rec.recordingId } },
      el('div', {}, el('strong', {}, rec.name), ` ${dateTime(rec.startTime)} · ${rec.format.toUpperCase()} · `,
        el('span', { class: `tag ${rec.status}` }, rec.status),
        rec.error ? el('span', { class: 'error' }, ` ${rec.error}`) : null, ' ',
        el('button', { type: 'button', class: 'danger', 'aria-label': `Delete recording ${rec.name}`, onclick: () => remove(rec) }, 'Delete')),
      el('ul', { class: 'plain files' }, ...files.map((f, i) => fileRow(rec, f, files.length > 1 ? `Stream ${i + 1}` : 'File'))));
  }));
  if (!r.recordList.length) $('rec-list').append(el('li', {}, 'No recordings.'));
  $('rec-page').textContent = `Page ${r.pageNo} of ${Math.max(1, r.totalPage)} (${r.totalCount} recordings)`;
  $('rec-prev').disabled = r.pageNo <= 1;
  $('rec-next').disabled = r.pageNo >= r.totalPage;
}

// ---- in the meeting ----
let meeting = null;
let offs = [];
let running = null; // recordingId of the recording this room is making

function setRunning(id) {
  running = id;
  $('m-recording').hidden = id === null;
  const b = $('btn-record');
  b.setAttribute('aria-pressed', String(id !== null));
  b.textContent = id === null ? 'Record' : 'Stop recording';
}

async function toggleRecord() {
  const conf = meeting && meeting.conference;
  if (!conf) return;
  try {
    if (running !== null) {
      await session.rpc.call('recording.stop', { recordingId: running });
      setRunning(null);
      meeting.status('Recording stopped; it is on the Recordings page.');
      return;
    }
    const params = { roomId: conf.room.roomId, format: 'webm', layout: conf.room.mode === 'mcu' ? 'composite' : 'tracks' };
    let r;
    try {
      r = await session.rpc.call('recording.start', params);
    } catch (e) {
      if (e.code !== Code.unavailable || params.layout !== 'composite') throw e;
      r = await session.rpc.call('recording.start', { ...params, layout: 'tracks' });
    }
    setRunning(r.recordingId);
  } catch (e) {
    meeting.status(messageFor(e));
  }
}

export const recordings = {
  attach(m) {
    if (!session.has('recording')) return;
    meeting = m;
    const conf = m.conference;
    // Only signed-in callers who may administer the room can record.
    $('btn-record').hidden = !(session.user && conf.me.role === 'host');
    const rpc = session.rpc;
    offs = [
      rpc.on('recordingStarted', ({ recordingId }) => setRunning(recordingId)),
      rpc.on('recordingStopped', ({ recordingId }) => { if (recordingId === running) setRunning(null); }),
      rpc.on('recordingFailed', ({ recordingId, reason }) => {
        if (recordingId === running) setRunning(null);
        m.status(`The recording failed: ${reason}`);
      }),
    ];
  },
  detach() {
    offs.forEach((off) => off());
    offs = [];
    setRunning(null);
  },
  init() {
    $('btn-record').addEventListener('click', toggleRecord);
    $('rec-search').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const f = ev.target;
      filter = {};
      if (f.name.value) filter.name = f.name.value;
      if (f.from.value) filter.startDate = dayStart(f.from.value);
      if (f.to.value) filter.endDate = dayStart(f.to.value) + 86399;
      pageNo = 1;
      showRecordings();
    });
    $('rec-prev').addEventListener('click', () => { pageNo = Math.max(1, pageNo - 1); showRecordings(); });
    $('rec-next').addEventListener('click', () => { pageNo += 1; showRecordings(); });
  },
};
