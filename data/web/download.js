// Downloads a file from an authenticated HTTP route (Authorization: Bearer) with a
// progress bar, then hands it to the browser to save.
import { el } from './dom.js';
import { session } from './session.js';

export async function download(url, name, progress, expectedSize = 0) {
  if (progress) { progress.hidden = false; progress.value = 0; }
  const res = await fetch(url, { headers: session.token ? { authorization: `Bearer ${session.token}` } : {} });
  if (!res.ok) throw new Error(`the download failed (HTTP ${res.status})`);
  const total = Number(res.headers.get('content-length')) || expectedSize;
  const reader = res.body.getReader();
  const chunks = [];
  let got = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    got += value.length;
    if (progress && total) progress.value = Math.min(100, (100 * got) / total);
  }
  if (progress) progress.value = 100;
  const blob = new Blob(chunks, { type: res.headers.get('content-type') || 'application/octet-stream' });
  const a = el('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60000);
}
