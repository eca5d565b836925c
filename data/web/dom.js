// Small DOM helpers shared by the views.
export const $ = (id) => document.getElementById(id);

// el('button', {type: 'button', onclick}, 'text', child…)
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k in e && typeof v !== 'string') e[k] = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  e.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return e;
}

export function showView(id) {
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== id;
}

export const pad2 = (n) => String(n).padStart(2, '0');

export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  return (h ? `${h}:` : '') + `${pad2(Math.floor(s / 60) % 60)}:${pad2(s % 60)}`;
}

export const dateTime = (unix) => new Date(unix * 1000).toLocaleString();
