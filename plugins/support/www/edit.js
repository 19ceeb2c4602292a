// edit.js -- the workplace's writes, each a form over one REST call: create
// a daginstitution with its anvisningsenheder, add a unit or an alternativ
// adresse, edit, move, close, reopen, delete. "Kontrollér" sends the same
// request validate-only; every fejl is shown at its field; the form keeps
// what was typed; a 412 says someone else changed the record and offers the
// newer version.
import {el, fill, api, ApiError, LEVEL, facts, codeText} from '/ui/common.js';
import {recordFields, field, readCreate, readPatch, showErrors, showOk, clearErrors} from '/ui/forms.js';
import {flash, go, failed} from '/ui/support.js';

// The REST query flag that makes a write validate-only (docs/api.md).
export const KONTROL = 'kontroller=true';

function withKontrol(path) {
  return path + (path.includes('?') ? '&' : '?') + KONTROL;
}

function randomKey() {
  const a = new Uint8Array(16);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

// A form with a list for its errors, the fields, and the buttons
// "Kontrollér" and the action's own. send(validateOnly) makes the request.
function writeForm({title, intro, fields, action, send, done}) {
  const errors = el('div', {class: 'fejlliste'});
  const check = el('button', {type: 'button', class: 'sekundaer', 'data-handling': 'kontroller'}, 'Kontrollér');
  const submit = el('button', {type: 'submit'}, action);
  const form = el('form', {class: 'formular card', novalidate: true}, errors, fields,
    el('div', {class: 'knapper'}, check, submit,
      el('button', {type: 'button', class: 'sekundaer', onclick: () => history.back()}, 'Fortryd')));
  const run = async (validateOnly) => {
    check.disabled = submit.disabled = true;
    try {
      const res = await send(validateOnly);
      if (validateOnly) showOk(form, 'Kontrolleret: registeret godtager ændringen. Intet er gemt endnu.');
      else await done(res);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return failed(e, '');
      if (e instanceof ApiError && e.status === 412 && form.onConflict) return form.onConflict(e);
      if (e instanceof ApiError && e.fejl.length) {
        showErrors(form, e.fejl, validateOnly
          ? `Kontrollen fandt ${e.fejl.length} fejl. Ret dem og prøv igen.`
          : `Registeret afviste ændringen (${e.status}). Ret fejlene og prøv igen.`);
      } else {
        showErrors(form, [{kode: String(e.status || ''), felt: null, tekst: e.message}], 'Det mislykkedes.');
      }
    } finally {
      check.disabled = submit.disabled = false;
    }
  };
  check.addEventListener('click', () => run(true));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    run(false);
  });
  return [el('h1', {}, title), intro ? el('p', {}, intro) : null, form];
}

// ---- create -------------------------------------------------------------------------

export async function createDaginstitution(view) {
  document.title = 'Opret daginstitution – Support';
  const units = el('div', {class: 'enheder'});
  let n = 0;
  const addUnit = () => {
    const i = n++;
    const box = el('fieldset', {class: 'enhed'}, el('legend', {}, `Anvisningsenhed ${i + 1}`),
      recordFields('anvisningsenhed', `anvisningsenheder[${i}].`, null),
      el('div', {class: 'knapper'}, el('button', {type: 'button', class: 'sekundaer',
        onclick: () => { box.remove(); }}, `Fjern anvisningsenhed ${i + 1}`)));
    units.appendChild(box);
    box.querySelector('input').focus();
  };
  const key = randomKey();
  const fields = [
    ...recordFields('daginstitution', '', null),
    field({felt: 'virkningFra', label: 'Virkning fra', type: 'date'}),
    el('div', {class: 'felt-bred'}, el('h2', {}, 'Anvisningsenheder'), units,
      el('button', {type: 'button', class: 'sekundaer', onclick: addUnit}, 'Tilføj anvisningsenhed')),
  ];
  fill(view, ...writeForm({
    title: 'Opret daginstitution',
    intro: 'En privat daginstitution (ejerform 3) kan kun oprettes af support. Felter med * skal udfyldes.',
    fields, action: 'Opret',
    send: (validateOnly) => {
      const form = view.querySelector('form');
      const body = readCreate(form);
      if (Array.isArray(body.anvisningsenheder)) body.anvisningsenheder = body.anvisningsenheder.filter(Boolean);
      return api(validateOnly ? withKontrol('/v1/daginstitutioner') : '/v1/daginstitutioner',
        {method: 'POST', body, headers: validateOnly ? {} : {'Idempotency-Key': key}});
    },
    done: (res) => {
      flash(`${res.data.navn} er oprettet som ${res.data.nummer}.`);
      go(`#/dagtilbud/${res.data.nummer}`);
    },
  }));
}

export async function createChild(view, level, parent) {
  const parentField = level === 'anvisningsenhed' ? 'daginstitutionsNummer' : 'anvisningsenhedsNummer';
  const key = randomKey();
  const name = LEVEL[level].name.toLowerCase();
  document.title = `Tilføj ${name} – Support`;
  fill(view, ...writeForm({
    title: `Tilføj ${name} under ${parent}`,
    fields: [...recordFields(level, '', null), field({felt: 'virkningFra', label: 'Virkning fra', type: 'date'})],
    action: 'Tilføj',
    send: (validateOnly) => {
      const body = {[parentField]: parent, ...readCreate(view.querySelector('form'))};
      const path = `/v1/${LEVEL[level].path}`;
      return api(validateOnly ? withKontrol(path) : path,
        {method: 'POST', body, headers: validateOnly ? {} : {'Idempotency-Key': key}});
    },
    done: (res) => {
      flash(`${LEVEL[level].name} ${res.data.nummer} er tilføjet.`);
      go(`#/dagtilbud/${res.data.nummer}`);
    },
  }));
}

// ---- edit ---------------------------------------------------------------------------

function summary(level, r) {
  const rows = [['Navn', r.navn], ['Version', String(r.version)], ['Opdateret', r.opdateret]];
  if (level === 'daginstitution') {
    rows.push(['Ejerform', codeText('ejerform', r.ejerformKode)],
      ['Lovgrundlag', codeText('lovgrundlag', r.lovgrundlagKode)],
      ['Administrerende kommune', codeText('kommune', r.admKommuneKode)]);
  }
  return facts(rows);
}

export async function editRecord(view, level, nummer) {
  const path = `/v1/${LEVEL[level].path}/${nummer}`;
  let {data: record} = await api(path);
  document.title = `Redigér ${nummer} – Support`;
  const parts = writeForm({
    title: `Redigér ${LEVEL[level].name.toLowerCase()} ${nummer}`,
    intro: 'Ændr felterne og tryk Kontrollér for at se, om registeret godtager ændringen, eller Gem.',
    fields: recordFields(level, '', record),
    action: 'Gem',
    send: (validateOnly) => {
      const patch = readPatch(view.querySelector('form'), record);
      return api(validateOnly ? withKontrol(path) : path, {method: 'PATCH', body: patch,
        headers: {'If-Match': `"${record.version}"`}});
    },
    done: (res) => {
      flash(`${nummer} er gemt (version ${res.data.version}).`);
      go(`#/dagtilbud/${nummer}`);
    },
  });
  fill(view, ...parts);
  const form = view.querySelector('form');
  // 412: someone changed the record since it was read. Say so, show the
  // newer version, and let the person keep their changes on top of it or
  // take the newer version into the form.
  form.onConflict = async () => {
    const {data: newer} = await api(path);
    const box = form.querySelector('.fejlliste');
    const keep = el('button', {type: 'button'}, `Behold mine ændringer oven på version ${newer.version}`);
    const take = el('button', {type: 'button', class: 'sekundaer'}, `Hent version ${newer.version} ind i formularen`);
    fill(box, el('div', {class: 'besked besked-fejl', role: 'alert'},
      el('p', {}, `En anden har ændret ${nummer}, siden du åbnede den (du havde version ${record.version}, ` +
        `den nyeste er version ${newer.version}). Intet er gemt.`),
      el('h2', {}, `Version ${newer.version}`), summary(level, newer),
      el('div', {class: 'knapper'}, keep, take)));
    keep.addEventListener('click', () => {
      record = newer;
      showOk(form, `Dine ændringer ligger nu oven på version ${newer.version}. Tryk Gem for at gemme dem.`);
      form.querySelector('button[type=submit]').focus();
    });
    take.addEventListener('click', () => editRecord(view, level, nummer));
    keep.focus();
  };
}

// ---- move, close, reopen, delete ------------------------------------------------------

async function readRecord(level, nummer) {
  const {data} = await api(`/v1/${LEVEL[level].path}/${nummer}`);
  return data;
}

export async function moveRecord(view, level, nummer) {
  const record = await readRecord(level, nummer);
  const parentField = level === 'anvisningsenhed' ? 'daginstitutionsNummer' : 'anvisningsenhedsNummer';
  const target = level === 'anvisningsenhed' ? 'daginstitution' : 'anvisningsenhed';
  document.title = `Flyt ${nummer} – Support`;
  fill(view, ...writeForm({
    title: `Flyt ${record.navn || nummer} (${nummer})`,
    intro: `Den ligger nu under ${record[parentField]}. Flyt kun inden for samme administrerende kommune.`,
    fields: [field({felt: parentField, label: `Ny ${target} (nummer)`, required: true, max: 6})],
    action: 'Flyt',
    send: (validateOnly) => {
      const body = readCreate(view.querySelector('form'));
      if (typeof body[parentField] === 'string') body[parentField] = body[parentField].toUpperCase();
      const path = `/v1/${LEVEL[level].path}/${nummer}/flyt`;
      return api(validateOnly ? withKontrol(path) : path, {method: 'POST', body,
        headers: {'If-Match': `"${record.version}"`}});
    },
    done: (res) => {
      flash(`${nummer} er flyttet til ${res.data[parentField]}.`);
      go(`#/dagtilbud/${nummer}`);
    },
  }));
}

export async function closeRecord(view, level, nummer) {
  const record = await readRecord(level, nummer);
  document.title = `Nedlæg ${nummer} – Support`;
  fill(view, ...writeForm({
    title: `Nedlæg ${record.navn || nummer} (${nummer})`,
    intro: 'Vælg den dag, hvor dagtilbuddet ophører. Underliggende enheder skal være nedlagt senest samme dag.',
    fields: [field({felt: 'virkningTil', label: 'Virkning til', type: 'date', required: true})],
    action: 'Nedlæg',
    send: (validateOnly) => {
      const path = `/v1/${LEVEL[level].path}/${nummer}/nedlaeg`;
      return api(validateOnly ? withKontrol(path) : path, {method: 'POST',
        body: readCreate(view.querySelector('form')), headers: {'If-Match': `"${record.version}"`}});
    },
    done: (res) => {
      flash(`${nummer} er nedlagt pr. ${res.data.virkningTil}.`);
      go(`#/dagtilbud/${nummer}`);
    },
  }));
}

// A confirmation (reopen, delete): the record, a warning, and one button.
async function confirmForm(view, level, nummer, {title, text, action, danger, request, done}) {
  const record = await readRecord(level, nummer);
  document.title = `${title} – Support`;
  const errors = el('div', {class: 'fejlliste'});
  const button = el('button', {type: 'submit', class: danger ? 'fare' : null}, action);
  const form = el('form', {class: 'card'}, errors, facts([['Nummer', nummer], ['Navn', record.navn],
    ['Virkning', `${record.virkningFra} – ${record.virkningTil || 'uden slutdato'}`], ['Version', String(record.version)]]),
  el('p', {}, text), el('div', {class: 'knapper'}, button));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    try {
      await request(record);
      done(record);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return failed(e, '');
      showErrors(form, e.fejl && e.fejl.length ? e.fejl : [{kode: '', felt: null, tekst: e.message}],
        `Registeret afviste det (${e.status}).`);
    } finally {
      button.disabled = false;
    }
  });
  clearErrors(form);
  fill(view, el('h1', {}, title), form);
}

export function reopenRecord(view, level, nummer) {
  return confirmForm(view, level, nummer, {
    title: `Genåbn ${nummer}`, action: 'Genåbn',
    text: 'Genåbn kun en registrering, der er nedlagt ved en fejl. Den bliver gældende igen uden slutdato.',
    request: (r) => api(`/v1/${LEVEL[level].path}/${nummer}/genaabn`, {method: 'POST', body: {},
      headers: {'If-Match': `"${r.version}"`}}),
    done: () => {
      flash(`${nummer} er genåbnet.`);
      go(`#/dagtilbud/${nummer}`);
    },
  });
}

export function deleteRecord(view, level, nummer) {
  return confirmForm(view, level, nummer, {
    title: `Slet ${nummer}`, action: 'Slet registreringen', danger: true,
    text: 'Slet kun en registrering, der er lavet ved en fejl. Nummeret bliver aldrig brugt igen; historikken bevares.',
    request: (r) => api(`/v1/${LEVEL[level].path}/${nummer}`, {method: 'DELETE',
      headers: {'If-Match': `"${r.version}"`}}),
    done: (r) => {
      flash(`${nummer} er slettet.`);
      const parent = r.daginstitutionsNummer || r.anvisningsenhedsNummer;
      go(parent ? `#/dagtilbud/${parent}` : '#/');
    },
  });
}
