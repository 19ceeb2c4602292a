// public.js -- the landing page: the search form and its results. The form
// is a plain GET form on "/", so a search has an address of its own (it
// can be bookmarked, and Back works); this module reads the address and
// asks the API.
import {el, fill, api, ApiError, codeLists, codeText, statusBadge, formatAdresse, announce}
  from '/ui/common.js';

const NUMMER = /^[A-Za-z][0-9]{5}$/;

function fillSelect(select, map, chosen) {
  for (const [kode, tekst] of map) {
    select.appendChild(el('option', {value: kode, selected: String(kode) === chosen}, `${kode} ${tekst}`));
  }
}

function link(nummer, text) {
  return el('a', {href: `/dagtilbud/${encodeURIComponent(nummer)}`}, text);
}

function table(caption, head, rows) {
  return el('table', {class: 'liste'},
    el('caption', {}, caption),
    el('thead', {}, el('tr', {}, head.map((h) => el('th', {scope: 'col'}, h)))),
    el('tbody', {}, rows));
}

// One list (daginstitutioner or anvisningsenheder) with a "Vis flere" button
// that fetches the next page after the last number shown.
async function listSection(path, params, caption, head, row) {
  const section = el('section', {class: 'card'});
  const body = el('tbody', {});
  const more = el('button', {type: 'button', class: 'sekundaer'}, 'Vis flere');
  let next = null;
  let total = 0;
  const load = async () => {
    const q = new URLSearchParams(params);
    q.set('limit', '50');
    if (next) q.set('efter', next);
    const {data} = await api(`${path}?${q}`);
    for (const r of data.resultater) body.appendChild(row(r));
    total += data.resultater.length;
    next = data.naeste;
    more.hidden = !next;
    return data.resultater.length;
  };
  more.addEventListener('click', () => load().catch(showError));
  await load();
  if (!total) return null;
  const t = table(caption, head, []);
  t.replaceChild(body, t.querySelector('tbody'));
  fill(section, el('h2', {}, caption), t, more);
  return section;
}

function showError(e) {
  if (e instanceof ApiError && e.fejl.length) {
    announce(e.fejl.map((f) => `${f.felt ? f.felt + ': ' : ''}${f.tekst}`).join('; '), 'fejl');
  } else {
    announce(`Søgningen mislykkedes: ${e.message}`, 'fejl');
  }
}

async function search(p) {
  const out = document.getElementById('resultater');
  const q = (p.get('q') || '').trim();
  const kommune = p.get('kommune') || '';
  const type = p.get('type') || '';
  const cvr = (p.get('cvr') || '').trim();
  const pnr = (p.get('pnr') || '').trim();
  const status = p.get('status') || '';
  if (!q && !kommune && !type && !cvr && !pnr && !status) return;
  if (NUMMER.test(q)) {
    try {
      await api(`/v1/dagtilbud/${q.toUpperCase()}`);
      location.assign(`/dagtilbud/${q.toUpperCase()}`);
    } catch (e) {
      announce(e.status === 404 || e.status === 410
        ? `Der er intet dagtilbud med nummeret ${q.toUpperCase()}.` : `Søgningen mislykkedes: ${e.message}`,
        e.status === 404 || e.status === 410 ? 'info' : 'fejl');
    }
    return;
  }
  announce('Søger …');
  const sections = [];
  const unitParams = {};
  if (q) unitParams.navn = q;
  if (kommune) unitParams.kommuneKode = kommune;
  if (type) unitParams.instType3 = type;
  if (cvr) unitParams.cvrNummer = cvr;
  if (pnr) unitParams.pNummer = pnr;
  if (status) unitParams.status = status;
  if (!type && !cvr && !pnr) {
    const dagParams = {};
    if (q) dagParams.navn = q;
    if (kommune) dagParams.admKommuneKode = kommune;
    if (status) dagParams.status = status;
    sections.push(await listSection('/v1/daginstitutioner', dagParams, 'Daginstitutioner',
      ['Nummer', 'Navn', 'Administrerende kommune', 'Status'],
      (r) => el('tr', {}, el('td', {}, link(r.nummer, r.nummer)), el('td', {}, r.navn),
        el('td', {}, codeText('kommune', r.admKommuneKode)), el('td', {}, statusBadge(r.status)))));
  }
  sections.push(await listSection('/v1/anvisningsenheder', unitParams, 'Anvisningsenheder',
    ['Nummer', 'Navn', 'Type', 'Adresse', 'Status'],
    (r) => el('tr', {}, el('td', {}, link(r.nummer, r.nummer)), el('td', {}, r.navn),
      el('td', {}, codeText('institutionstype', r.instType3)), el('td', {}, formatAdresse(r.adresse)),
      el('td', {}, statusBadge(r.status)))));
  const found = sections.filter(Boolean);
  fill(out, found);
  announce(found.length ? '' : 'Ingen dagtilbud matcher søgningen.');
}

async function main() {
  const p = new URLSearchParams(location.search);
  try {
    const codes = await codeLists();
    fillSelect(document.getElementById('kommune'), codes.kommune, p.get('kommune'));
    fillSelect(document.getElementById('type'), codes.institutionstype, p.get('type'));
  } catch (e) {
    announce(`Kodetabellerne kunne ikke hentes: ${e.message}`, 'fejl');
    return;
  }
  for (const name of ['q', 'cvr', 'pnr', 'status']) {
    const v = p.get(name);
    if (v !== null) document.getElementById(name).value = v;
  }
  await search(p).catch(showError);
}

main();
