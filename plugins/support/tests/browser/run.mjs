// run.mjs -- the web UI in a real browser: Debian's chromium driven by
// playwright-core, against running servers that test_browser.py started
// with the register's sample loaded. Every flow as a person does it (typing,
// clicking; one whole flow by keyboard alone), axe-core on every page (no
// serious or critical violation), and a screenshot of every page at
// 1280x800 and at a phone's width (SHOT_DIR).
//
// Environment: BASE (the server), BASE_SHORT (a server whose sessions live
// max_age_ms 1500 ms), PEOPLE (JSON {name: one-time password}), KOMMUNE
// (clientId:secret of a kommune client for 101), SHOT_DIR, CHROMIUM.
import {chromium} from 'playwright-core';
import {createRequire} from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';

const require = createRequire(import.meta.url);
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BASE = process.env.BASE;
const BASE_SHORT = process.env.BASE_SHORT;
const PEOPLE = JSON.parse(process.env.PEOPLE || '{}');
const KOMMUNE = process.env.KOMMUNE;
const SHOT_DIR = process.env.SHOT_DIR || 'screenshots';
const WIDE = {width: 1280, height: 800};
const PHONE = {width: 390, height: 844};
const NEW_PASSWORD = 'en-lang-og-hemmelig-adgangskode';

fs.mkdirSync(SHOT_DIR, {recursive: true});

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});

const results = [];
const problems = []; // console errors and page errors, per test
let current = '';

async function test(name, fn) {
  current = name;
  const t0 = Date.now();
  try {
    await fn();
    results.push({name, ok: true, ms: Date.now() - t0});
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push({name, ok: false, error: e});
    console.log(`FAIL ${name}\n${e.stack || e}`);
  }
}

async function newPage(context) {
  const ctx = context || await browser.newContext({viewport: WIDE, locale: 'da-DK'});
  const page = await ctx.newPage();
  page.on('pageerror', (e) => problems.push(`${current}: page error: ${e.message}`));
  page.on('console', (m) => {
    // An expected refusal (401/403/412/422) shows up as a failed resource
    // load; the page's own errors are the ones that count.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) {
      problems.push(`${current}: console: ${m.text()}`);
    }
  });
  return page;
}

// axe-core on the page as it is: no serious or critical violation.
async function axe(page, name) {
  await page.evaluate(AXE);
  const res = await page.evaluate(async () => await window.axe.run(document,
    {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice']}}));
  const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(' | ')})`), [],
    `axe on ${name}`);
}

// A screenshot at 1280x800 and at a phone's width, and axe on the page.
async function look(page, name) {
  await axe(page, name);
  await page.screenshot({path: path.join(SHOT_DIR, `${name}-1280.png`)});
  await page.setViewportSize(PHONE);
  await page.screenshot({path: path.join(SHOT_DIR, `${name}-telefon.png`)});
  await page.setViewportSize(WIDE);
}

function copenhagenToday() {
  return new Intl.DateTimeFormat('sv-SE', {timeZone: 'Europe/Copenhagen'}).format(new Date());
}

async function login(page, name, password, base = BASE) {
  await page.goto(`${base}/support/`);
  await page.getByLabel('Brugernavn').fill(name);
  await page.getByLabel('Adgangskode').fill(password);
  await page.getByRole('button', {name: 'Log ind'}).click();
}

// Waits for a message in the page's live region.
async function message(page, text) {
  await page.locator('#besked').getByText(text).waitFor();
}

// ---- the public browser -------------------------------------------------------------

await test('public: landing page, search by name, a dagtilbud as a tree', async () => {
  const page = await newPage();
  await page.goto(`${BASE}/`);
  await page.getByRole('heading', {name: 'Dagtilbudsregisteret', level: 1}).waitFor();
  await look(page, 'forside');
  await page.getByLabel('Nummer eller navn').fill('Solsikken');
  await page.getByLabel('Nummer eller navn').press('Enter');
  await page.getByRole('heading', {name: 'Daginstitutioner'}).waitFor();
  assert.match(page.url(), /\?q=Solsikken/);
  await look(page, 'soegning');
  await page.locator('#resultater a').first().click();
  await page.locator('ul.tree').waitFor();
  assert.equal(await page.locator('[aria-current="page"]').count(), 1);
  await look(page, 'dagtilbud');
  // every code with its text, the status, a map link
  const text = await page.locator('#dagtilbud').innerText();
  assert.match(text, /Ejerform\s+\d \w+/);
  assert.match(text, /Aktiv|Nedlagt|Kommende/);
  assert.ok(await page.getByRole('link', {name: /^Kort/}).count() > 0);
  await page.context().close();
});

await test('public: search by number, kommune, type, status; unknown number', async () => {
  const page = await newPage();
  await page.goto(`${BASE}/`);
  await page.getByLabel('Nummer eller navn').fill('G40001');
  await page.getByRole('button', {name: 'Søg'}).click();
  await page.waitForURL(/\/dagtilbud\/G40001$/);
  await page.locator('ul.tree').waitFor();
  await page.goto(`${BASE}/`);
  await page.getByLabel('Kommune').selectOption('101');
  await page.getByLabel('Institutionstype').selectOption('6012');
  await page.getByLabel('Status').selectOption('aktiv');
  await page.getByRole('button', {name: 'Søg'}).click();
  await page.getByRole('heading', {name: 'Anvisningsenheder'}).waitFor();
  const rows = await page.locator('#resultater tbody tr').allInnerTexts();
  assert.ok(rows.length > 0 && rows.every((r) => /6012/.test(r) && /Aktiv/.test(r)), rows.join('\n'));
  await page.goto(`${BASE}/?q=G99999`);
  await message(page, 'Der er intet dagtilbud med nummeret G99999.');
  await page.context().close();
});

await test('public: a visitor cannot reach the workplace', async () => {
  const page = await newPage();
  await page.goto(`${BASE}/support/`);
  await page.getByRole('heading', {name: 'Log ind'}).waitFor();
  assert.equal(await page.locator('#menu').isVisible(), false);
  await look(page, 'login');
  const status = await page.evaluate(async () => Promise.all([
    fetch('/support/api/konsistens').then((r) => r.status),
    fetch('/support/api/session').then((r) => r.status),
    fetch('/v1/spor/G40001').then((r) => r.status),
    fetch('/v1/daginstitutioner', {method: 'POST', headers: {'Content-Type': 'application/json'},
      body: '{"navn": "x"}'}).then((r) => r.status),
  ]));
  assert.deepEqual(status, [401, 401, 401, 401]);
  await page.context().close();
});

// ---- logging in -------------------------------------------------------------------------

await test('login: a wrong password, then throttled', async () => {
  const page = await newPage();
  await login(page, 'tove', 'forkert');
  await page.getByText('Forkert brugernavn eller adgangskode.').waitFor();
  for (let i = 0; i < 4; i++) {
    await page.getByLabel('Adgangskode').fill(`forkert-${i}`);
    await page.getByRole('button', {name: 'Log ind'}).click();
    await page.getByText('Forkert brugernavn eller adgangskode.').waitFor();
  }
  // the sixth try, with the right password, waits
  await page.getByLabel('Adgangskode').fill(PEOPLE.tove);
  await page.getByRole('button', {name: 'Log ind'}).click();
  await page.getByText(/For mange forkerte forsøg. Prøv igen om \d+ sekunder./).waitFor();
  await page.context().close();
});

let anne; // a context logged in as anne (support)

await test('login: a one-time password must be changed first', async () => {
  const page = await newPage();
  await login(page, 'anne', PEOPLE.anne);
  await page.getByRole('heading', {name: 'Skift adgangskode'}).waitFor();
  await look(page, 'skift-adgangskode');
  await page.getByLabel('Nuværende adgangskode').fill(PEOPLE.anne);
  await page.getByLabel('Ny adgangskode', {exact: true}).fill('kort');
  await page.getByLabel('Gentag ny adgangskode').fill('kort');
  await page.getByRole('button', {name: 'Skift adgangskode'}).click();
  await page.getByText('Den nye adgangskode skal have mindst 12 tegn.').waitFor();
  await page.getByLabel('Ny adgangskode', {exact: true}).fill(NEW_PASSWORD);
  await page.getByLabel('Gentag ny adgangskode').fill(NEW_PASSWORD);
  await page.getByRole('button', {name: 'Skift adgangskode'}).click();
  await message(page, 'Adgangskoden er skiftet.');
  await page.getByRole('heading', {name: 'Søg i registeret'}).waitFor();
  assert.match(await page.locator('#hvem').innerText(), /anne \(support\)/);
  await look(page, 'arbejdsplads');
  anne = page;
});

// ---- support's work -----------------------------------------------------------------------

let dag; // the private daginstitution created below
let units = [];

await test('support: search and the hierarchy tree', async () => {
  const page = anne;
  await page.getByLabel('Nummer eller navn').fill('Solsikken');
  await page.getByRole('button', {name: 'Søg'}).click();
  await page.getByRole('heading', {name: /Resultater/}).waitFor();
  await page.locator('#s-resultater a').first().click();
  await page.locator('.vaerktoej ul.tree').waitFor();
  assert.ok(await page.getByRole('link', {name: 'Historik'}).count() > 0);
  await look(page, 'support-dagtilbud');
});

await test('support: create a private daginstitution with two anvisningsenheder (Kontrollér first)', async () => {
  const page = anne;
  await page.getByRole('link', {name: 'Opret daginstitution'}).first().click();
  await page.getByRole('heading', {name: 'Opret daginstitution'}).waitFor();
  await page.getByLabel('Navn *').first().fill('Den Private Test-Børnehave');
  await page.getByLabel('Ejerform *').selectOption('3');
  await page.getByLabel('Lovgrundlag *').selectOption('4');
  await page.getByLabel('Administrerende kommune *').selectOption('101');
  for (let i = 0; i < 2; i++) {
    await page.getByRole('button', {name: 'Tilføj anvisningsenhed'}).click();
    const box = page.locator('fieldset.enhed').nth(i);
    await box.getByLabel('Navn *').fill(`Privat enhed ${i + 1}`);
    await box.getByLabel('Institutionstype *').selectOption('6011');
    await box.getByLabel('Vejnavn *').fill('Rømersgade');
    await box.getByLabel('Husnummer *').fill(String(20 + i));
    await box.getByLabel('Postnummer *').fill(i === 0 ? '13' : '1362'); // the first is wrong
    await box.getByLabel('By *').fill('København K');
    await box.getByLabel('Kommune *').selectOption('101');
  }
  await page.getByRole('button', {name: 'Kontrollér'}).click();
  const postnr = page.locator('[data-felt="anvisningsenheder[0].adresse.postNummer"]');
  await page.locator('[aria-invalid="true"]').first().waitFor();
  assert.equal(await postnr.getAttribute('aria-invalid'), 'true');
  const err = await page.locator(`#${await postnr.getAttribute('aria-describedby')}`).innerText();
  assert.ok(err.length > 0, 'the fejl is shown at its field');
  assert.equal(await page.getByLabel('Navn *').first().inputValue(), 'Den Private Test-Børnehave',
    'the form keeps what was typed');
  await look(page, 'opret-fejl');
  await postnr.fill('1362');
  await page.getByRole('button', {name: 'Kontrollér'}).click();
  await page.getByText('Kontrolleret: registeret godtager ændringen.').waitFor();
  await page.getByRole('button', {name: 'Opret'}).click();
  await page.locator('.vaerktoej ul.tree').waitFor();
  await message(page, /er oprettet som G\d{5}/);
  dag = /som (G\d{5})/.exec(await page.locator('#besked').innerText())[1];
  units = await page.locator('.vaerktoej ul.tree ul.tree > li > .node dl.facts dd:first-of-type').allInnerTexts();
  assert.equal(units.length, 2);
});

await test('support: add an alternativ adresse', async () => {
  const page = anne;
  await page.locator(`a[href="#/ny-adresse/${units[0]}"]`).click();
  await page.getByRole('heading', {name: `Tilføj alternativ adresse under ${units[0]}`}).waitFor();
  await page.getByLabel('Navn', {exact: true}).fill('Legepladsen');
  await page.getByLabel('Vejnavn *').fill('Rømersgade');
  await page.getByLabel('Husnummer *').fill('29');
  await page.getByLabel('Postnummer *').fill('1362');
  await page.getByLabel('By *').fill('København K');
  await page.getByLabel('Kommune *').selectOption('101');
  await look(page, 'ny-adresse');
  await page.getByRole('button', {name: 'Tilføj'}).click();
  await message(page, /Alternativ adresse G\d{5} er tilføjet./);
  await page.getByText('Legepladsen').first().waitFor();
});

await test('support: edit with Kontrollér, every fejl at its field, then save', async () => {
  const page = anne;
  await page.goto(`${BASE}/support/#/rediger/daginstitution/${dag}`);
  await page.getByRole('heading', {name: `Redigér daginstitution ${dag}`}).waitFor();
  await page.getByLabel('Navn *').fill('');
  await page.getByLabel('Ejerform *').selectOption('1'); // kommunal with lovgrundlag 4: refused
  await page.getByRole('button', {name: 'Kontrollér'}).click();
  await page.getByText(/Kontrollen fandt \d+ fejl/).waitFor();
  assert.equal(await page.getByLabel('Navn *').getAttribute('aria-invalid'), 'true');
  await look(page, 'rediger-fejl');
  await page.getByLabel('Navn *').fill('Den Private Test-Børnehave og Vuggestue');
  await page.getByLabel('Ejerform *').selectOption('3');
  await page.getByRole('button', {name: 'Kontrollér'}).click();
  await page.getByText('Kontrolleret: registeret godtager ændringen.').waitFor();
  await page.getByRole('button', {name: 'Gem'}).click();
  await message(page, new RegExp(`${dag} er gemt \\(version 2\\)`));
});

await test('support: a kommune changed the record meanwhile (412 shown and resolved)', async () => {
  const page = anne;
  const unit = 'G23152'; // kommunal, in 101
  await page.goto(`${BASE}/support/#/rediger/anvisningsenhed/${unit}`);
  await page.getByRole('heading', {name: `Redigér anvisningsenhed ${unit}`}).waitFor();
  await page.getByLabel('Telefon').fill('33123456');
  // the kommune's placement system changes the name now
  const res = await fetch(`${BASE}/v1/anvisningsenheder/${unit}`, {method: 'PATCH',
    headers: {'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from(KOMMUNE).toString('base64')}`},
    body: JSON.stringify({navn: 'Den Grønne Kastanje (kommunen)'})});
  assert.equal(res.status, 200, await res.text());
  await page.getByRole('button', {name: 'Gem'}).click();
  await page.getByText(/En anden har ændret G23152, siden du åbnede den/).waitFor();
  await look(page, 'konflikt');
  await page.getByRole('button', {name: /Behold mine ændringer oven på version/}).click();
  await page.getByRole('button', {name: 'Gem'}).click();
  await message(page, /G23152 er gemt/);
  const {navn, telefonNummer} = await (await fetch(`${BASE}/v1/anvisningsenheder/${unit}`)).json();
  assert.deepEqual([navn, telefonNummer], ['Den Grønne Kastanje (kommunen)', '33123456']);
});

await test('support: move a unit, close it with a date, reopen it', async () => {
  const page = anne;
  // move the second unit to a kommunal daginstitution in the same kommune: refused (no, same kommune
  // 101 is allowed); then back into its own daginstitution later is not needed
  await page.goto(`${BASE}/support/#/flyt/anvisningsenhed/${units[1]}`);
  await page.getByLabel('Ny daginstitution (nummer) *').fill('G40003'); // kommune 147: refused
  await page.getByRole('button', {name: 'Kontrollér'}).click();
  await page.getByText(/Kontrollen fandt/).waitFor();
  assert.equal(await page.getByLabel('Ny daginstitution (nummer) *').getAttribute('aria-invalid'), 'true');
  await page.getByLabel('Ny daginstitution (nummer) *').fill('G40001');
  await page.getByRole('button', {name: 'Flyt'}).click();
  await message(page, `${units[1]} er flyttet til G40001.`);
  await page.goto(`${BASE}/support/#/nedlaeg/anvisningsenhed/${units[1]}`);
  await page.getByLabel('Virkning til *').fill(copenhagenToday());
  await look(page, 'nedlaeg');
  await page.getByRole('button', {name: 'Nedlæg'}).click();
  await message(page, new RegExp(`${units[1]} er nedlagt pr. ${copenhagenToday()}`));
  await page.locator(`a[href="#/genaabn/anvisningsenhed/${units[1]}"]`).click();
  await page.getByRole('heading', {name: `Genåbn ${units[1]}`}).waitFor();
  await look(page, 'genaabn');
  await page.getByRole('button', {name: 'Genåbn'}).click();
  await message(page, `${units[1]} er genåbnet.`);
  const u = await (await fetch(`${BASE}/v1/anvisningsenheder/${units[1]}`)).json();
  assert.equal(u.virkningTil, null);
  assert.equal(u.status, 'aktiv');
});

await test('support: delete an erroneous registration', async () => {
  const page = anne;
  const {anvisningsenheder} = await (await fetch(`${BASE}/v1/daginstitutioner/${dag}`)).json();
  const alt = anvisningsenheder[0].alternativeAdresser[0].nummer;
  // a unit with children cannot be deleted
  await page.goto(`${BASE}/support/#/slet/anvisningsenhed/${units[0]}`);
  await page.getByRole('button', {name: 'Slet registreringen'}).click();
  await page.getByText(/HAR_BOERN/).waitFor();
  await page.goto(`${BASE}/support/#/slet/alternativAdresse/${alt}`);
  await look(page, 'slet');
  await page.getByRole('button', {name: 'Slet registreringen'}).click();
  await message(page, `${alt} er slettet.`);
  assert.equal((await fetch(`${BASE}/v1/alternative-adresser/${alt}`)).status, 410);
});

await test('support: history with differences, hændelser and audit entries', async () => {
  const page = anne;
  await page.goto(`${BASE}/support/#/historik/${dag}`);
  await page.getByRole('heading', {name: /Historik for/}).waitFor();
  await page.getByRole('heading', {name: 'Version 2'}).waitFor();
  const changed = await page.locator('section.version').first().locator('tr.diff-aendret th').allInnerTexts();
  assert.deepEqual(changed, ['navn']);
  const audit = await page.locator('section.card', {has: page.getByRole('heading', {name: 'Auditlog'})})
    .locator('tbody tr').allInnerTexts();
  assert.ok(audit.length >= 2 && audit.every((r) => /bruger:anne/.test(r)), audit.join('\n'));
  const events = await page.locator('section.card', {has: page.getByRole('heading', {name: 'Hændelser'})})
    .locator('tbody tr').allInnerTexts();
  assert.ok(events.some((r) => /oprettet/.test(r)) && events.some((r) => /aendret/.test(r)), events.join('\n'));
  await look(page, 'historik');
});

await test('support: consistency report and webhook dead letters', async () => {
  const page = anne;
  await page.getByRole('link', {name: 'Konsistensrapport'}).click();
  await page.getByRole('heading', {name: /Anvisningsenheder uden P-nummer \(\d+\)/}).waitFor();
  const text = await page.locator('#visning').innerText();
  assert.match(text, /Daginstitutioner uden en aktiv anvisningsenhed \(\d+\)/);
  assert.ok(text.includes(units[0]), 'the new units have no P-nummer');
  await look(page, 'konsistens');
  await page.getByRole('link', {name: 'Webhooks'}).click();
  await page.getByRole('heading', {name: 'Webhooks til Dagtilbudsportalen'}).waitFor();
  await page.getByRole('heading', {name: /Parkerede/}).first().waitFor();
  await look(page, 'webhooks');
});

await test('support: a write without the CSRF token is refused', async () => {
  const status = await anne.evaluate(async (n) => {
    const r = await fetch(`/v1/daginstitutioner/${n}`, {method: 'PATCH',
      headers: {'Content-Type': 'application/json'}, body: '{"navn": "uden token"}'});
    return r.status;
  }, dag);
  assert.equal(status, 403);
  const {navn} = await (await fetch(`${BASE}/v1/daginstitutioner/${dag}`)).json();
  assert.notEqual(navn, 'uden token');
});

await test('support: log out', async () => {
  await anne.getByRole('button', {name: 'Log ud'}).click();
  await anne.getByRole('heading', {name: 'Log ind'}).waitFor();
  await message(anne, 'Du er logget ud.');
  assert.equal(await anne.evaluate(async () => (await fetch('/support/api/konsistens')).status), 401);
  await anne.context().close();
});

// ---- keyboard only ------------------------------------------------------------------------

// Presses Tab until the focused element matches, at most 80 times.
async function tabTo(page, test, what) {
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(test)) return;
  }
  throw new Error(`Tab never reached ${what}`);
}

await test('keyboard only: log in, find a dagtilbud, edit its name with Kontrollér, save', async () => {
  const page = await newPage();
  await page.goto(`${BASE}/support/`);
  await page.getByRole('heading', {name: 'Log ind'}).waitFor();
  await page.keyboard.type('anne'); // the name field has the focus
  await page.keyboard.press('Tab');
  await page.keyboard.type(NEW_PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', {name: 'Søg i registeret'}).waitFor();
  await tabTo(page, () => document.activeElement.id === 's-q', 'the search field');
  await page.keyboard.type('Test-Børnehave');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', {name: /Resultater/}).waitFor();
  await tabTo(page, () => document.activeElement.closest('#s-resultater') &&
    document.activeElement.tagName === 'A', 'the first result');
  await page.keyboard.press('Enter');
  await page.locator('.vaerktoej ul.tree').waitFor();
  await tabTo(page, () => document.activeElement.textContent === 'Redigér', 'Redigér');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', {name: /Redigér daginstitution/}).waitFor();
  await tabTo(page, () => document.activeElement.dataset && document.activeElement.dataset.felt === 'navn', 'Navn');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('Tastaturets Børnehave');
  await tabTo(page, () => document.activeElement.textContent === 'Kontrollér', 'Kontrollér');
  await page.keyboard.press('Enter');
  await page.getByText('Kontrolleret: registeret godtager ændringen.').waitFor();
  await tabTo(page, () => document.activeElement.textContent === 'Gem', 'Gem');
  await page.keyboard.press('Enter');
  await message(page, /er gemt/);
  const {navn} = await (await fetch(`${BASE}/v1/daginstitutioner/${dag}`)).json();
  assert.equal(navn, 'Tastaturets Børnehave');
  await page.context().close();
});

// ---- an expired session --------------------------------------------------------------------

await test('an expired session is sent to login', async () => {
  const page = await newPage();
  await login(page, 'lars', PEOPLE.lars, BASE_SHORT);
  await page.getByRole('heading', {name: 'Skift adgangskode'}).waitFor();
  // wait (with a deadline) until the server has ended the session
  const deadline = Date.now() + 20000;
  for (;;) {
    const st = await page.evaluate(async () => (await fetch('/support/api/session')).status);
    if (st === 401) break;
    assert.ok(Date.now() < deadline, 'the session never expired');
    await new Promise((r) => setTimeout(r, 100));
  }
  await page.getByLabel('Nuværende adgangskode').fill(PEOPLE.lars);
  await page.getByLabel('Ny adgangskode', {exact: true}).fill(NEW_PASSWORD);
  await page.getByLabel('Gentag ny adgangskode').fill(NEW_PASSWORD);
  await page.getByRole('button', {name: 'Skift adgangskode'}).click();
  await page.getByText('Din session er udløbet. Log ind igen.').waitFor();
  await page.getByRole('heading', {name: 'Log ind'}).waitFor();
  await page.context().close();
});

await browser.close();

const failed = results.filter((r) => !r.ok);
for (const p of problems) console.log(`page problem: ${p}`);
console.log(`${results.length - failed.length}/${results.length} browser tests passed; screenshots in ${SHOT_DIR}`);
process.exit(failed.length || problems.length ? 1 : 0);
