// historik.js -- a record's history in the workplace: every version, newest
// first, with what changed since the version before highlighted; its
// hændelser and its audit entries (who did what, when).
import {el, fill, api, LEVEL} from '/ui/common.js';
import {failed} from '/ui/support.js';

const SKIP = new Set(['version', 'opdateret', 'status', 'anvisningsenheder', 'alternativeAdresser']);

// {"adresse.vejNavn": "...", ...}: a record's fields, flat.
function flatten(obj, prefix = '', out = {}) {
  for (const [k, v] of Object.entries(obj || {})) {
    if (!prefix && SKIP.has(k)) continue;
    if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, `${prefix}${k}.`, out);
    else out[prefix + k] = v;
  }
  return out;
}

const show = (v) => (v === null || v === undefined || v === '' ? '—' : String(v));

function versionCard(v, before) {
  const now = flatten(v.data);
  const prev = before ? flatten(before.data) : null;
  const keys = [...new Set([...Object.keys(now), ...(prev ? Object.keys(prev) : [])])];
  const changed = prev ? keys.filter((k) => show(now[k]) !== show(prev[k])) : [];
  const rows = keys.map((k) => {
    const diff = changed.includes(k);
    return el('tr', {class: diff ? 'diff-aendret' : null},
      el('th', {scope: 'row'}, k),
      el('td', {}, show(now[k])),
      el('td', {}, diff ? `før: ${show(prev[k])}` : ''));
  });
  return el('section', {class: 'card version', 'aria-labelledby': `v${v.version}`},
    el('h3', {id: `v${v.version}`}, `Version ${v.version}`),
    el('p', {class: 'muted'}, `Registreret ${v.registreringFra} af ${v.aktoer}` +
      (v.registreringTil ? `, afløst ${v.registreringTil}` : ' (gældende)') +
      (prev ? ` · ${changed.length ? `ændret: ${changed.join(', ')}` : 'ingen felter ændret'}` : ' · oprettet')),
    el('table', {class: 'liste'}, el('caption', {}, `Felter i version ${v.version}`),
      el('thead', {}, el('tr', {}, el('th', {scope: 'col'}, 'Felt'), el('th', {scope: 'col'}, 'Værdi'),
        el('th', {scope: 'col'}, 'Ændring'))),
      el('tbody', {}, rows)));
}

function trailTable(caption, head, rows) {
  return rows.length
    ? el('table', {class: 'liste'}, el('caption', {}, caption),
      el('thead', {}, el('tr', {}, head.map((h) => el('th', {scope: 'col'}, h)))), el('tbody', {}, rows))
    : el('p', {class: 'muted'}, 'Ingen.');
}

export async function showHistory(view, nummer) {
  document.title = `Historik ${nummer} – Support`;
  try {
    const {data: found} = await api(`/v1/dagtilbud/${nummer}`);
    const level = found.niveau;
    const [{data: versions}, trail] = await Promise.all([
      api(`/v1/${LEVEL[level].path}/${nummer}/historik`),
      api(`/v1/spor/${nummer}`).then((r) => r.data).catch((e) => {
        if (e.status === 401) throw e;
        return {haendelser: [], audit: [], fejl: e.message};
      }),
    ]);
    const sorted = [...versions].sort((a, b) => a.version - b.version);
    const cards = sorted.map((v, i) => versionCard(v, i ? sorted[i - 1] : null)).reverse();
    const events = (trail.haendelser || []).map((h) => el('tr', {},
      el('td', {}, String(h.sekvensnummer)), el('td', {}, h.tidspunkt), el('td', {}, h.operation),
      el('td', {}, String(h.version))));
    const audit = (trail.audit || []).map((a) => el('tr', {},
      el('td', {}, a.tidspunkt), el('td', {}, a.aktoer), el('td', {}, a.operation),
      el('td', {}, a.requestId || '—')));
    fill(view,
      el('h1', {}, `Historik for ${found.data.navn || nummer} (${nummer})`),
      el('p', {}, el('a', {href: `#/dagtilbud/${nummer}`}, 'Tilbage til dagtilbuddet')),
      el('h2', {}, `Versioner (${versions.length})`), cards,
      el('section', {class: 'card'}, el('h2', {}, 'Hændelser'),
        trailTable('Hændelser', ['Sekvensnummer', 'Tidspunkt', 'Operation', 'Version'], events)),
      el('section', {class: 'card'}, el('h2', {}, 'Auditlog'),
        trail.fejl ? el('p', {class: 'besked besked-fejl'}, `Auditloggen kunne ikke hentes: ${trail.fejl}`) : null,
        trailTable('Auditlog', ['Tidspunkt', 'Hvem', 'Operation', 'Request-id'], audit)));
  } catch (e) {
    failed(e, 'Historikken kunne ikke hentes');
  }
}
