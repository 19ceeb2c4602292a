// forms.js -- the workplace's forms: fields named by their JSON path
// (data-felt="adresse.postNummer", "anvisningsenheder[0].navn"), so every
// fejl the register answers is shown next to the field its "felt" names;
// the body of a create or a merge patch is read back from the same fields.
import {el, fill, codeLists} from '/ui/common.js';

let counter = 0;

// One field: label, input or select, and a place for its error.
// spec: {felt, label, type: 'text'|'int'|'number'|'date'|'email'|'tel',
//        list: code list name for a select, required, value, hint}
export function field(spec, value) {
  const id = `f${++counter}`;
  const errId = `${id}-fejl`;
  let input;
  const v = value === null || value === undefined ? '' : String(value);
  if (spec.list) {
    input = el('select', {id, 'data-felt': spec.felt, 'data-type': 'int', required: spec.required},
      el('option', {value: ''}, spec.required ? 'Vælg …' : '—'));
    for (const [kode, tekst] of codeListsCache[spec.list] || []) {
      input.appendChild(el('option', {value: kode, selected: String(kode) === v}, `${kode} ${tekst}`));
    }
  } else {
    const htmlType = {int: 'text', number: 'text', date: 'date', email: 'email', tel: 'tel'}[spec.type] || 'text';
    input = el('input', {id, type: htmlType, 'data-felt': spec.felt, 'data-type': spec.type || 'text',
      value: v, required: spec.required, maxlength: spec.max,
      inputmode: spec.type === 'int' || spec.type === 'number' ? 'decimal' : null,
      autocomplete: 'off'});
  }
  input.setAttribute('aria-describedby', errId);
  return el('div', {class: 'felt'},
    el('label', {for: id}, spec.label + (spec.required ? ' *' : '')),
    input,
    el('p', {class: 'feltfejl', id: errId}));
}

let codeListsCache = {};
export async function loadCodes() {
  codeListsCache = await codeLists();
}

export const ADRESSE = [
  {felt: 'vejNavn', label: 'Vejnavn', required: true, max: 40},
  {felt: 'husNummer', label: 'Husnummer', required: true, max: 4},
  {felt: 'etage', label: 'Etage', max: 2},
  {felt: 'doer', label: 'Dør', max: 4},
  {felt: 'postNummer', label: 'Postnummer', required: true, max: 4},
  {felt: 'byNavn', label: 'By', required: true, max: 34},
  {felt: 'supplerendeBynavn', label: 'Supplerende bynavn', max: 34},
  {felt: 'kommuneKode', label: 'Kommune', list: 'kommune', required: true},
  {felt: 'geoBredde', label: 'Breddegrad', type: 'number'},
  {felt: 'geoLaengde', label: 'Længdegrad', type: 'number'},
];

export const FIELDS = {
  daginstitution: [
    {felt: 'navn', label: 'Navn', required: true, max: 132},
    {felt: 'ejerformKode', label: 'Ejerform', list: 'ejerform', required: true},
    {felt: 'lovgrundlagKode', label: 'Lovgrundlag', list: 'lovgrundlag', required: true},
    {felt: 'admKommuneKode', label: 'Administrerende kommune', list: 'kommune', required: true},
  ],
  anvisningsenhed: [
    {felt: 'navn', label: 'Navn', required: true, max: 132},
    {felt: 'instType3', label: 'Institutionstype', list: 'institutionstype', required: true},
    {felt: 'email', label: 'E-mail', type: 'email', max: 100},
    {felt: 'telefonNummer', label: 'Telefon', type: 'tel', max: 8},
    {felt: 'cvrNummer', label: 'CVR-nummer', max: 8},
    {felt: 'pNummer', label: 'P-nummer', max: 10},
    {felt: 'adresse', label: 'Adresse', group: ADRESSE},
  ],
  alternativAdresse: [
    {felt: 'navn', label: 'Navn', max: 132},
    {felt: 'cvrNummer', label: 'CVR-nummer', max: 8},
    {felt: 'pNummer', label: 'P-nummer', max: 10},
    {felt: 'adresse', label: 'Adresse', group: ADRESSE},
  ],
};

// The fields of one record under prefix ("" or "anvisningsenheder[0].").
export function recordFields(level, prefix, record) {
  const out = [];
  for (const spec of FIELDS[level]) {
    if (spec.group) {
      const sub = (record && record[spec.felt]) || {};
      out.push(el('fieldset', {}, el('legend', {}, spec.label),
        spec.group.map((g) => field({...g, felt: `${prefix}${spec.felt}.${g.felt}`}, sub[g.felt]))));
    } else {
      out.push(field({...spec, felt: prefix + spec.felt}, record ? record[spec.felt] : undefined));
    }
  }
  return out;
}

function parsePath(path) {
  const parts = [];
  for (const seg of path.split('.')) {
    const m = /^([A-Za-z]+)\[(\d+)\]$/.exec(seg);
    if (m) parts.push(m[1], Number(m[2]));
    else parts.push(seg);
  }
  return parts;
}

function setPath(obj, path, value) {
  const parts = parsePath(path);
  let o = obj;
  for (let i = 0; i < parts.length - 1; i++) {
    const k = parts[i];
    if (o[k] === undefined) o[k] = typeof parts[i + 1] === 'number' ? [] : {};
    o = o[k];
  }
  o[parts[parts.length - 1]] = value;
}

// A field's value as JSON: null for empty; numbers for int and number fields
// when they parse (else the text, which the register refuses at its field).
function valueOf(input) {
  const raw = input.value.trim();
  if (raw === '') return null;
  const type = input.dataset.type;
  if (type === 'int' && /^-?\d+$/.test(raw)) return Number(raw);
  if (type === 'number') {
    const n = Number(raw.replace(',', '.'));
    return Number.isFinite(n) ? n : raw;
  }
  return raw;
}

// The body of a create: every field with a value (empty ones left out).
export function readCreate(form) {
  const body = {};
  for (const input of form.querySelectorAll('[data-felt]')) {
    const v = valueOf(input);
    if (v !== null) setPath(body, input.dataset.felt, v);
  }
  return body;
}

// A merge patch: the fields that differ from record (emptied ones: null).
// An address is patched as an object of its changed members.
export function readPatch(form, record) {
  const patch = {};
  for (const input of form.querySelectorAll('[data-felt]')) {
    const path = input.dataset.felt;
    const parts = parsePath(path);
    let old = record;
    for (const p of parts) old = old === null || old === undefined ? undefined : old[p];
    const v = valueOf(input);
    const same = (old === undefined || old === null) ? v === null : old === v;
    if (!same) setPath(patch, path, v);
  }
  return patch;
}

// Clears what showErrors marked.
export function clearErrors(form) {
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  for (const p of form.querySelectorAll('.feltfejl')) p.textContent = '';
  const sum = form.querySelector('.fejlliste');
  if (sum) fill(sum);
}

// Shows every fejl at the field its felt names; those without a field (or
// felt null) in the form's list at the top. Focuses the first field in error.
export function showErrors(form, fejl, intro) {
  clearErrors(form);
  const sum = form.querySelector('.fejlliste');
  const general = [];
  let first = null;
  for (const f of fejl) {
    const input = f.felt ? form.querySelector(`[data-felt="${CSS.escape(f.felt)}"]`) : null;
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      const p = document.getElementById(input.getAttribute('aria-describedby'));
      if (p) p.textContent = p.textContent ? `${p.textContent} ${f.tekst}` : f.tekst;
      if (!first) first = input;
    } else {
      general.push(f);
    }
  }
  if (sum) {
    fill(sum, el('div', {class: 'besked besked-fejl', role: 'alert'},
      el('p', {}, intro || `Der er ${fejl.length} fejl.`),
      general.length ? el('ul', {}, general.map((f) => el('li', {},
        `${f.felt ? f.felt + ': ' : ''}${f.tekst} (${f.kode})`))) : null));
  }
  if (first) first.focus();
}

// Shows a success line in the form's list.
export function showOk(form, text) {
  clearErrors(form);
  const sum = form.querySelector('.fejlliste');
  if (sum) fill(sum, el('div', {class: 'besked besked-ok', role: 'status'}, text));
}
