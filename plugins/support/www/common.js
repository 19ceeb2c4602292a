// common.js -- what the public pages and the support workplace share:
// building elements safely (every value goes in as text, never as HTML),
// calling the JSON API, the code lists, and a dagtilbud as a tree.

// el('a', {href: x, class: 'y'}, 'text', child...): an element whose
// attributes are set one by one and whose string children are text nodes.
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else if (c instanceof Node) node.appendChild(c);
    else node.appendChild(document.createTextNode(String(c)));
  }
}

// Replaces the children of node with the given ones.
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

// The session's CSRF token, set by the support workplace after login.
let csrfToken = null;
export function setCsrf(token) {
  csrfToken = token;
}

// An error from the API: status, the problem+json body (with its fejl list).
export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.fejl = (problem && Array.isArray(problem.fejl)) ? problem.fejl : [];
  }
}

// Calls the API: method, path, body (an object: sent as JSON), extra
// headers. Resolves to {status, etag, data}; rejects with ApiError.
export async function api(path, {method = 'GET', body, headers = {}} = {}) {
  const h = {Accept: 'application/json', ...headers};
  if (body !== undefined) h['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) h['X-CSRF-Token'] = csrfToken;
  const res = await fetch(path, {
    method, headers: h, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  const text = await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) throw new ApiError(res.status, data);
  const etag = res.headers.get('ETag');
  return {status: res.status, etag: etag ? etag.replace(/^W\//, '').replace(/"/g, '') : null, data};
}

// The code lists, read once: {kommune: Map, ejerform: Map, ...}.
let codes = null;
export async function codeLists() {
  if (codes) return codes;
  const names = {kommune: 'kommuner', ejerform: 'ejerformer', lovgrundlag: 'lovgrundlag',
                 institutionstype: 'institutionstyper'};
  const out = {};
  await Promise.all(Object.entries(names).map(async ([key, path]) => {
    const {data} = await api(`/v1/kodetabeller/${path}`);
    out[key] = new Map(data.map((c) => [c.kode, c.tekst]));
  }));
  codes = out;
  return codes;
}

// "101 København": a code with its text.
export function codeText(list, kode) {
  if (kode === null || kode === undefined) return '—';
  const t = codes && codes[list] ? codes[list].get(kode) : undefined;
  return t ? `${kode} ${t}` : String(kode);
}

export const STATUS_TEXT = {aktiv: 'Aktiv', kommende: 'Kommende', nedlagt: 'Nedlagt'};

export function statusBadge(status) {
  return el('span', {class: `status status-${status || 'ukendt'}`}, STATUS_TEXT[status] || status || '?');
}

export function formatAdresse(a) {
  if (!a) return '—';
  const line1 = [a.vejNavn, a.husNummer].filter(Boolean).join(' ') +
    (a.etage ? `, ${a.etage}.` : '') + (a.doer ? ` ${a.doer}` : '');
  const line2 = [a.postNummer, a.byNavn].filter(Boolean).join(' ');
  return [line1, a.supplerendeBynavn, line2].filter((s) => s && s.trim()).join(', ');
}

// A link to a map at the coordinates, or null without them.
export function mapLink(a) {
  if (!a || typeof a.geoBredde !== 'number' || typeof a.geoLaengde !== 'number') return null;
  const url = `https://www.openstreetmap.org/?mlat=${a.geoBredde}&mlon=${a.geoLaengde}#map=17/${a.geoBredde}/${a.geoLaengde}`;
  return el('a', {href: url, rel: 'noopener noreferrer', target: '_blank'},
    `Kort (${a.geoBredde}, ${a.geoLaengde})`);
}

// A definition list of [label, value] rows (values: text or nodes).
export function facts(rows) {
  return el('dl', {class: 'facts'}, rows.filter((r) => r).map(([k, v]) => [
    el('dt', {}, k), el('dd', {}, v === null || v === undefined || v === '' ? '—' : v)]));
}

export const LEVEL = {
  daginstitution: {path: 'daginstitutioner', name: 'Daginstitution'},
  anvisningsenhed: {path: 'anvisningsenheder', name: 'Anvisningsenhed'},
  alternativAdresse: {path: 'alternative-adresser', name: 'Alternativ adresse'},
};

// The number of the daginstitution a dagtilbud of any level belongs to.
export async function owningDaginstitution(nummer) {
  const {data} = await api(`/v1/dagtilbud/${encodeURIComponent(nummer)}`);
  if (data.niveau === 'daginstitution') return data.data.nummer;
  if (data.niveau === 'anvisningsenhed') return data.data.daginstitutionsNummer;
  const unit = await api(`/v1/anvisningsenheder/${encodeURIComponent(data.data.anvisningsenhedsNummer)}`);
  return unit.data.daginstitutionsNummer;
}

// A daginstitution (nested as GET shows it) as a tree of nested lists.
// link(nummer, level) makes the heading of each node (text or a node).
export function dagtilbudTree(dag, link) {
  const unitNode = (u) => el('li', {},
    el('div', {class: 'node'},
      el('h3', {}, link(u.nummer, 'anvisningsenhed', u.navn), ' ', statusBadge(u.status)),
      facts([
        ['Nummer', u.nummer],
        ['Institutionstype', codeText('institutionstype', u.instType3)],
        ['Adresse', formatAdresse(u.adresse)],
        ['Kommune', codeText('kommune', u.adresse && u.adresse.kommuneKode)],
        ['CVR-nummer', u.cvrNummer],
        ['P-nummer', u.pNummer],
        ['E-mail', u.email],
        ['Telefon', u.telefonNummer],
        ['Virkning', virkning(u)],
        ['Kort', mapLink(u.adresse)],
      ])),
    (u.alternativeAdresser || []).length
      ? el('ul', {class: 'tree'}, u.alternativeAdresser.map((a) => el('li', {},
        el('div', {class: 'node'},
          el('h4', {}, link(a.nummer, 'alternativAdresse', a.navn || 'Alternativ adresse'), ' ',
            statusBadge(a.status)),
          facts([
            ['Nummer', a.nummer],
            ['Adresse', formatAdresse(a.adresse)],
            ['Virkning', virkning(a)],
            ['Kort', mapLink(a.adresse)],
          ])))))
      : null);
  return el('ul', {class: 'tree', 'aria-label': 'Dagtilbuddets opbygning'},
    el('li', {},
      el('div', {class: 'node'},
        el('h2', {}, link(dag.nummer, 'daginstitution', dag.navn), ' ', statusBadge(dag.status)),
        facts([
          ['Nummer', dag.nummer],
          ['Ejerform', codeText('ejerform', dag.ejerformKode)],
          ['Lovgrundlag', codeText('lovgrundlag', dag.lovgrundlagKode)],
          ['Administrerende kommune', codeText('kommune', dag.admKommuneKode)],
          ['Virkning', virkning(dag)],
        ])),
      (dag.anvisningsenheder || []).length
        ? el('ul', {class: 'tree'}, dag.anvisningsenheder.map(unitNode))
        : el('p', {class: 'muted'}, 'Ingen anvisningsenheder.')));
}

export function virkning(r) {
  return `${r.virkningFra || '?'} – ${r.virkningTil || 'uden slutdato'}`;
}

// Shows a message in the page's live region (read aloud by screen readers).
export function announce(text, kind = 'info') {
  const box = document.getElementById('besked');
  if (!box) return;
  fill(box, text ? el('p', {class: `besked besked-${kind}`}, text) : null);
}
