// support.js -- STIL support's workplace at /support/: login, the views
// (by the address's #fragment, so Back works and every view has a link)
// and the search and tree. The forms are in edit.js, history in historik.js,
// the reports in rapporter.js.
import {el, fill, api, ApiError, setCsrf, codeLists, codeText, statusBadge, formatAdresse,
  announce, dagtilbudTree, owningDaginstitution, LEVEL} from '/ui/common.js';
import {loadCodes} from '/ui/forms.js';
import * as edit from '/ui/edit.js';
import {showHistory} from '/ui/historik.js';
import {showConsistency, showWebhooks} from '/ui/rapporter.js';

const view = () => document.getElementById('visning');
let person = null;
let pendingMessage = null;

// A message to show after the next view is drawn (a save leads elsewhere).
export function flash(text, kind = 'ok') {
  pendingMessage = {text, kind};
}

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function setTitle(text) {
  document.title = `${text} – Support – Dagtilbudsregisteret`;
}

// ---- session ------------------------------------------------------------------

async function loadSession() {
  try {
    const {data} = await api('/support/api/session');
    person = data;
    setCsrf(data.csrf);
    return true;
  } catch (e) {
    if (e.status === 401) return false;
    throw e;
  }
}

function showMenu(on) {
  document.getElementById('menu').hidden = !on;
  fill(document.getElementById('hvem'), on && person ? `${person.navn} (${person.rolle})` : '');
}

function loginView(message) {
  showMenu(false);
  setTitle('Log ind');
  const user = el('input', {id: 'brugernavn', name: 'brugernavn', autocomplete: 'username', required: true,
    'aria-describedby': 'login-fejl'});
  const pass = el('input', {id: 'adgangskode', name: 'adgangskode', type: 'password',
    autocomplete: 'current-password', required: true, 'aria-describedby': 'login-fejl'});
  const err = el('div', {id: 'login-fejl', role: 'alert'},
    message ? el('p', {class: 'besked besked-fejl'}, message) : null);
  const form = el('form', {class: 'card', novalidate: true},
    el('h1', {}, 'Log ind'),
    el('p', {class: 'muted'}, 'Supportens arbejdsplads. Kun for STIL support.'),
    err,
    el('div', {class: 'felt'}, el('label', {for: 'brugernavn'}, 'Brugernavn'), user),
    el('div', {class: 'felt'}, el('label', {for: 'adgangskode'}, 'Adgangskode'), pass),
    el('div', {class: 'knapper'}, el('button', {type: 'submit'}, 'Log ind')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      await api('/support/api/login', {method: 'POST',
        body: {brugernavn: user.value.trim(), adgangskode: pass.value}});
      await loadSession();
      if (person.skalSkifteAdgangskode) passwordView(true);
      else route();
    } catch (e) {
      pass.value = '';
      const text = e.status === 429
        ? `For mange forkerte forsøg. Prøv igen om ${e.problem.retryAfter || 'lidt'} sekunder.`
        : e.status === 401 ? 'Forkert brugernavn eller adgangskode.' : `Login mislykkedes: ${e.message}`;
      fill(err, el('p', {class: 'besked besked-fejl'}, text));
      pass.focus();
    } finally {
      button.disabled = false;
    }
  });
  fill(view(), el('div', {class: 'login'}, form));
  announce('');
  user.focus();
}

function passwordView(first) {
  showMenu(!first);
  setTitle('Skift adgangskode');
  const old = el('input', {id: 'nuvaerende', type: 'password', autocomplete: 'current-password', required: true});
  const neu = el('input', {id: 'ny', type: 'password', autocomplete: 'new-password', required: true,
    minlength: 12, 'aria-describedby': 'ny-hjaelp'});
  const again = el('input', {id: 'gentag', type: 'password', autocomplete: 'new-password', required: true});
  const err = el('div', {role: 'alert'});
  const form = el('form', {class: 'card', novalidate: true},
    el('h1', {}, 'Skift adgangskode'),
    first ? el('p', {}, 'Du er logget ind med en engangsadgangskode. Vælg din egen, før du går videre.') : null,
    err,
    el('div', {class: 'felt'}, el('label', {for: 'nuvaerende'}, 'Nuværende adgangskode'), old),
    el('div', {class: 'felt'}, el('label', {for: 'ny'}, 'Ny adgangskode'), neu,
      el('p', {id: 'ny-hjaelp', class: 'muted'}, 'Mindst 12 tegn.')),
    el('div', {class: 'felt'}, el('label', {for: 'gentag'}, 'Gentag ny adgangskode'), again),
    el('div', {class: 'knapper'}, el('button', {type: 'submit'}, 'Skift adgangskode')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (neu.value !== again.value) {
      fill(err, el('p', {class: 'besked besked-fejl'}, 'De to nye adgangskoder er ikke ens.'));
      again.focus();
      return;
    }
    try {
      await api('/support/api/adgangskode', {method: 'POST', body: {nuvaerende: old.value, ny: neu.value}});
      await loadSession();
      flash('Adgangskoden er skiftet.');
      showMenu(true);
      go('#/');
    } catch (e) {
      if (e.status === 401) return loginView('Din session er udløbet. Log ind igen.');
      fill(err, el('p', {class: 'besked besked-fejl'}, (e.fejl[0] && e.fejl[0].tekst) || e.message));
    }
  });
  fill(view(), el('div', {class: 'login'}, form));
  old.focus();
}

async function logout() {
  try {
    await api('/support/api/logout', {method: 'POST', body: {}});
  } catch {
    // the session may be gone already
  }
  person = null;
  setCsrf(null);
  location.hash = '';
  loginView();
  announce('Du er logget ud.');
}

// An API failure in a view: an ended session goes to login, the rest is shown.
export function failed(e, what) {
  if (e instanceof ApiError && e.status === 401) {
    loginView('Din session er udløbet. Log ind igen.');
    return;
  }
  const detail = e instanceof ApiError && e.fejl.length ? e.fejl.map((f) => f.tekst).join(' ') : e.message;
  announce(`${what}: ${detail}`, 'fejl');
}

// ---- search -------------------------------------------------------------------

function recordLink(nummer, text) {
  return el('a', {href: `#/dagtilbud/${nummer}`}, text);
}

async function searchView(params) {
  setTitle('Søg');
  const q = el('input', {id: 's-q', type: 'search', value: params.get('q') || '', maxlength: 132});
  const kommune = el('select', {id: 's-kommune'}, el('option', {value: ''}, 'Alle kommuner'));
  for (const [k, t] of (await codeLists()).kommune) {
    kommune.appendChild(el('option', {value: k, selected: String(k) === params.get('kommune')}, `${k} ${t}`));
  }
  const status = el('select', {id: 's-status'},
    ['', 'aktiv', 'kommende', 'nedlagt'].map((s) => el('option', {value: s, selected: s === (params.get('status') || '')},
      s ? s[0].toUpperCase() + s.slice(1) : 'Alle')));
  const results = el('div', {id: 's-resultater'});
  const form = el('form', {id: 'soeg', role: 'search'},
    el('div', {class: 'felt felt-bred'}, el('label', {for: 's-q'}, 'Nummer eller navn'), q),
    el('div', {class: 'felt'}, el('label', {for: 's-kommune'}, 'Kommune'), kommune),
    el('div', {class: 'felt'}, el('label', {for: 's-status'}, 'Status'), status),
    el('div', {class: 'knapper'}, el('button', {type: 'submit'}, 'Søg'),
      el('a', {class: 'knap', href: '#/opret'}, 'Opret daginstitution')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    if (q.value.trim()) p.set('q', q.value.trim());
    if (kommune.value) p.set('kommune', kommune.value);
    if (status.value) p.set('status', status.value);
    go(`#/?${p}`);
  });
  fill(view(), el('h1', {}, 'Søg i registeret'), el('section', {class: 'card'}, form), results);
  const text = (params.get('q') || '').trim();
  if (/^[A-Za-z]\d{5}$/.test(text)) return go(`#/dagtilbud/${text.toUpperCase()}`);
  if (!text && !params.get('kommune') && !params.get('status')) return;
  const dq = new URLSearchParams({limit: '50'});
  const uq = new URLSearchParams({limit: '50'});
  if (text) dq.set('navn', text), uq.set('navn', text);
  if (params.get('kommune')) dq.set('admKommuneKode', params.get('kommune')), uq.set('kommuneKode', params.get('kommune'));
  if (params.get('status')) dq.set('status', params.get('status')), uq.set('status', params.get('status'));
  try {
    const [d, u] = await Promise.all([api(`/v1/daginstitutioner?${dq}`), api(`/v1/anvisningsenheder?${uq}`)]);
    const rows = [
      ...d.data.resultater.map((r) => el('tr', {}, el('td', {}, recordLink(r.nummer, r.nummer)), el('td', {}, 'Daginstitution'),
        el('td', {}, r.navn), el('td', {}, codeText('kommune', r.admKommuneKode)), el('td', {}, statusBadge(r.status)))),
      ...u.data.resultater.map((r) => el('tr', {}, el('td', {}, recordLink(r.nummer, r.nummer)), el('td', {}, 'Anvisningsenhed'),
        el('td', {}, r.navn), el('td', {}, formatAdresse(r.adresse)), el('td', {}, statusBadge(r.status)))),
    ];
    fill(results, rows.length
      ? el('section', {class: 'card'}, el('h2', {}, `Resultater (${rows.length})`),
        el('table', {class: 'liste'}, el('caption', {}, 'Søgeresultater'),
          el('thead', {}, el('tr', {}, ['Nummer', 'Niveau', 'Navn', 'Kommune / adresse', 'Status'].map((h) => el('th', {scope: 'col'}, h)))),
          el('tbody', {}, rows)))
      : el('p', {class: 'besked'}, 'Ingen dagtilbud matcher søgningen.'));
  } catch (e) {
    failed(e, 'Søgningen mislykkedes');
  }
}

// ---- a dagtilbud's tree with its actions ------------------------------------------

function actions(nummer, level, record) {
  const closed = record && record.virkningTil;
  const links = [
    ['Redigér', `#/rediger/${level}/${nummer}`],
    level === 'daginstitution' ? ['Tilføj anvisningsenhed', `#/ny-enhed/${nummer}`] : null,
    level === 'anvisningsenhed' ? ['Tilføj alternativ adresse', `#/ny-adresse/${nummer}`] : null,
    level !== 'daginstitution' ? ['Flyt', `#/flyt/${level}/${nummer}`] : null,
    closed ? ['Genåbn', `#/genaabn/${level}/${nummer}`] : ['Nedlæg', `#/nedlaeg/${level}/${nummer}`],
    ['Slet', `#/slet/${level}/${nummer}`],
    ['Historik', `#/historik/${nummer}`],
  ].filter(Boolean);
  return el('div', {class: 'handlinger', role: 'group', 'aria-label': `Handlinger for ${nummer}`},
    links.map(([text, href]) => el('a', {class: 'knap sekundaer-knap', href}, text)));
}

async function dagtilbudView(nummer) {
  setTitle(nummer);
  try {
    const dagNummer = await owningDaginstitution(nummer);
    const {data: dag} = await api(`/v1/daginstitutioner/${dagNummer}`);
    const byNummer = new Map([[dag.nummer, dag]]);
    for (const u of dag.anvisningsenheder || []) {
      byNummer.set(u.nummer, u);
      for (const a of u.alternativeAdresser || []) byNummer.set(a.nummer, a);
    }
    const link = (n, level, text) => el('span', {}, n === nummer
      ? el('span', {class: 'valgt', 'aria-current': 'true'}, text) : el('a', {href: `#/dagtilbud/${n}`}, text));
    const tree = dagtilbudTree(dag, link);
    // actions under every node's facts
    for (const node of tree.querySelectorAll('.node')) {
      const num = node.querySelector('dl.facts dd').textContent;
      const rec = byNummer.get(num);
      const level = rec === dag ? 'daginstitution' : rec && rec.anvisningsenhedsNummer ? 'alternativAdresse' : 'anvisningsenhed';
      node.appendChild(actions(num, level, rec));
    }
    fill(view(), el('h1', {}, dag.navn), el('p', {}, el('a', {href: `/dagtilbud/${dag.nummer}`}, 'Se den offentlige side')),
      el('div', {class: 'vaerktoej'}, tree));
    setTitle(dag.navn);
  } catch (e) {
    if (e.status === 404 || e.status === 410) {
      fill(view(), el('h1', {}, nummer), el('p', {class: 'besked besked-fejl'},
        e.status === 410 ? `${nummer} er slettet.` : `${nummer} findes ikke.`));
      return;
    }
    failed(e, 'Dagtilbuddet kunne ikke hentes');
  }
}

// ---- routing ------------------------------------------------------------------------

async function route() {
  if (!person) {
    if (!(await loadSession())) return loginView();
  }
  if (person.skalSkifteAdgangskode) return passwordView(true);
  showMenu(true);
  const message = pendingMessage;
  pendingMessage = null;
  announce(message ? message.text : '', message ? message.kind : 'info');
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query] = hash.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query || '');
  fill(view(), el('p', {class: 'muted'}, 'Indlæser …'));
  try {
    switch (parts[0]) {
      case undefined: return await searchView(params);
      case 'dagtilbud': return await dagtilbudView(parts[1]);
      case 'opret': return await edit.createDaginstitution(view());
      case 'ny-enhed': return await edit.createChild(view(), 'anvisningsenhed', parts[1]);
      case 'ny-adresse': return await edit.createChild(view(), 'alternativAdresse', parts[1]);
      case 'rediger': return await edit.editRecord(view(), parts[1], parts[2]);
      case 'flyt': return await edit.moveRecord(view(), parts[1], parts[2]);
      case 'nedlaeg': return await edit.closeRecord(view(), parts[1], parts[2]);
      case 'genaabn': return await edit.reopenRecord(view(), parts[1], parts[2]);
      case 'slet': return await edit.deleteRecord(view(), parts[1], parts[2]);
      case 'historik': return await showHistory(view(), parts[1]);
      case 'konsistens': return await showConsistency(view());
      case 'webhooks': return await showWebhooks(view());
      case 'adgangskode': return passwordView(false);
      default: fill(view(), el('h1', {}, 'Siden findes ikke'));
    }
  } catch (e) {
    failed(e, 'Siden kunne ikke vises');
  } finally {
    const h1 = view().querySelector('h1');
    if (h1 && !view().querySelector('[autofocus]') && document.activeElement === document.body) {
      h1.setAttribute('tabindex', '-1');
      h1.focus();
    }
  }
}

async function main() {
  document.getElementById('logud').addEventListener('click', logout);
  window.addEventListener('hashchange', route);
  try {
    await loadCodes();
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) return announce(`Kodetabellerne kunne ikke hentes: ${e.message}`, 'fejl');
  }
  await route();
}

export {LEVEL};
main();
