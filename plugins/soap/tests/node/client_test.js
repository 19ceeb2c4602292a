// client_test.js -- the soap plugin against a real SOAP client: npm `soap`
// reads our WSDLs and calls every ImportService and EksportService
// operation on a running server, in SOAP 1.1 and (for a few) SOAP 1.2,
// including refusals (ImportSvar FEJL) and faults. Run by
// tests/integration/test_soap.py, which starts the server and makes the
// clients:
//
//   DTR_URL=http://127.0.0.1:PORT SUPPORT=id:secret KOMMUNE=id:secret node client_test.js
//
// KOMMUNE is a kommune client scoped to 101. Prints one line per check and
// exits non-zero on the first failure.
'use strict';

const soap = require('soap');
const assert = require('assert');

const URL = process.env.DTR_URL;
const [SUPPORT_ID, SUPPORT_SECRET] = process.env.SUPPORT.split(':');
const [KOMMUNE_ID, KOMMUNE_SECRET] = process.env.KOMMUNE.split(':');

const arr = (x) => (x === undefined || x === null ? [] : Array.isArray(x) ? x : [x]);

// The ImportSvar string, read with the structure we write (status, nummer,
// version, oprettet, fejl); enough for a test of our own answers.
function svar(text) {
  const one = (tag, s) => {
    const m = new RegExp('<' + tag + '>([^<]*)</' + tag + '>').exec(s);
    return m ? m[1] : undefined;
  };
  const fejl = [];
  const re = /<fejl><kode>([^<]*)<\/kode><felt>([^<]*)<\/felt><tekst>([^<]*)<\/tekst><\/fejl>/g;
  let m;
  while ((m = re.exec(text))) fejl.push({ kode: m[1], felt: m[2], tekst: m[3] });
  const oprettet = [];
  const ro = /<oprettet><felt>([^<]*)<\/felt><nummer>([^<]*)<\/nummer><\/oprettet>/g;
  while ((m = ro.exec(text))) oprettet.push({ felt: m[1], nummer: m[2] });
  const stripped = text.replace(/<oprettet>.*?<\/oprettet>/g, '').replace(/<fejl>.*?<\/fejl>/g, '');
  return {
    status: one('status', text),
    nummer: one('nummer', stripped),
    version: one('version', stripped),
    oprettet,
    fejl,
  };
}

const NS = 'urn:dagtilbudsregister:soap:2';
function doc(root, body) {
  return '<' + root + ' xmlns="' + NS + '">' + body + '</' + root + '>';
}
function el(name, value) {
  return value === undefined ? '' : '<' + name + '>' + value + '</' + name + '>';
}
function di(o) {
  return el('daginstitutionsNummer', o.nummer) + el('daginstitutionsNavn', o.navn) +
    el('ejerformKode', o.ejerform || 1) + el('lovgrundlagKode', o.lovgrundlag || 1) +
    el('admKommuneKode', o.kommune || 101) + el('virkningFra', o.fra) + el('version', o.version) +
    (o.units || '');
}
function ae(o) {
  return el('anvisningsenhedsNummer', o.nummer) + el('daginstitutionsNummer', o.parent) +
    el('dagtilbudsNavn', o.navn) + el('instType3', o.type || 6011) +
    el('kommuneKode', o.kommune || 101) + el('vejNavn', o.vej || 'Byvej') +
    el('husNummer', o.hus || '7A') + el('postNummer', o.post || '2100') +
    el('byNavn', o.by || 'København Ø') + el('supplerendeBynavn', o.supplerende) +
    el('email', o.email) + el('telefonNummer', o.telefon) + el('cvrNummer', o.cvr) +
    el('pNummer', o.pnr) + el('geoBredde', o.lat) + el('geoLaengde', o.lon) +
    el('etage', o.etage) + el('doer', o.doer) + el('dawaId', o.dawa) +
    el('virkningFra', o.fra) + el('version', o.version) + (o.adresser || '');
}
function aa(o) {
  return el('alternativAdresseNummer', o.nummer) + el('anvisningsenhedsNummer', o.parent) +
    el('dagtilbudsNavn', o.navn) + el('vejNavn', o.vej || 'Sidevej') +
    el('husNummer', o.hus || '3') + el('postNummer', o.post || '2100') +
    el('byNavn', o.by || 'København Ø') + el('kommuneKode', o.kommune || 101) +
    el('cvrNummer', o.cvr) + el('pNummer', o.pnr) + el('version', o.version);
}

let checks = 0;
function ok(what) {
  checks++;
  console.log('ok ' + checks + ' - ' + what);
}

// A client of one service's port: <Service>Soap (SOAP 1.1) or
// <Service>Soap12 (SOAP 1.2), as the WSDL names them.
async function clients(service, user, pass, soap12) {
  // (node-soap caches a WSDL with the options it was read with: no cache)
  const opts = { disableCache: true, forceSoap12Headers: !!soap12 };
  const c = await soap.createClientAsync(URL + '/soap/' + service + '?wsdl', opts);
  if (user) c.setSecurity(new soap.BasicAuthSecurity(user, pass));
  return { port: c[service][service + (soap12 ? 'Soap12' : 'Soap')], soap12 };
}

function call(client, op, args) {
  return new Promise((resolve, reject) => {
    client.port[op](args, (err, result) => {
      if (err) reject(err);
      else resolve(result ? result[op + 'Result'] : undefined);
    });
  });
}

async function importCall(client, op, xml) {
  return svar(await call(client, op, { xmlData: xml }));
}

async function fault(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected a fault');
}

async function main() {
  const imp = await clients('ImportService', SUPPORT_ID, SUPPORT_SECRET, false);
  const imp12 = await clients('ImportService', SUPPORT_ID, SUPPORT_SECRET, true);
  const kom = await clients('ImportService', KOMMUNE_ID, KOMMUNE_SECRET, false);
  const eks = await clients('EksportService', null, null, false);
  const eks12 = await clients('EksportService', null, null, true);

  // ---- ImportService ----
  assert.match(await call(imp, 'HelloWorld', {}), /^Hello \d{4}-\d\d-\d\dT/);
  assert.match(await call(imp12, 'HelloWorld', {}), /^Hello /);
  ok('ImportService HelloWorld, SOAP 1.1 and 1.2');
  assert.match(await call(imp, 'GetXMLSchema', {}), /<xs:schema[^>]*urn:dagtilbudsregister:soap:2/);
  ok('GetXMLSchema answers the XSD');

  const unitFull = {
    navn: 'Rundtur', type: 6011, supplerende: 'Østerbro', email: 'rund@tur.dk',
    telefon: '+45 33 12 34 56', cvr: '10000009', pnr: '1000000001', lat: '55.7', lon: '12.57',
    etage: '2', doer: 'th', dawa: '0a3f50a0-1234-4abc-8def-0123456789ab', hus: '12B',
  };
  let r = await importCall(imp, 'ValidateXmlAgainstSchema',
    doc('daginstitution', di({ navn: 'Kontrol', units: '<anvisningsEnhed>' + ae(unitFull) + '</anvisningsEnhed>' })));
  assert.strictEqual(r.status, 'OK', JSON.stringify(r));
  r = await importCall(imp, 'ValidateXmlAgainstSchema', doc('daginstitution', di({ navn: '' })));
  assert.strictEqual(r.status, 'FEJL');
  assert.deepStrictEqual(r.fejl.map((f) => [f.kode, f.felt]), [['MANGLER_FELT', '/daginstitution/daginstitutionsNavn']]);
  ok('ValidateXmlAgainstSchema: OK and FEJL with the element path');

  // nested insert, atomic
  r = await importCall(imp, 'InsertDaginstitution', doc('daginstitution', di({
    navn: 'Solsikken', units: '<anvisningsEnhed>' + ae(unitFull) + '</anvisningsEnhed>' +
      '<anvisningsEnhed>' + ae({ navn: 'Vuggestuen', type: 6010 }) + '</anvisningsEnhed>',
  })));
  assert.strictEqual(r.status, 'OK', JSON.stringify(r));
  assert.strictEqual(r.version, '1');
  assert.strictEqual(r.oprettet.length, 2);
  const di1 = r.nummer;
  const [unit1, unit2] = r.oprettet.map((o) => o.nummer);
  assert.strictEqual(r.oprettet[0].felt, '/daginstitution/anvisningsEnhed[1]');
  ok('InsertDaginstitution with two nested units: ' + di1 + ', ' + unit1 + ', ' + unit2);

  r = await importCall(imp, 'InsertDaginstitution', doc('daginstitution', di({
    navn: 'Halv', units: '<anvisningsEnhed>' + ae({ navn: 'God' }) + '</anvisningsEnhed>' +
      '<anvisningsEnhed>' + ae({ navn: 'Klub', type: 6021 }) + '</anvisningsEnhed>',
  })));
  assert.strictEqual(r.status, 'FEJL');
  assert.deepStrictEqual(r.fejl.map((f) => [f.kode, f.felt]), [['KRYDSVALIDERING', '/daginstitution/anvisningsEnhed[2]/instType3']]);
  const halv = await call(eks, 'GetDaginstitutionByNavn', { partOfName: 'Halv' });
  assert.strictEqual(arr(halv && halv.daginstitution).length, 0);
  ok('a refused nested insert creates nothing (atomic), felt names the unit');

  // round trip: what Insert stored reads back field for field
  const got = arr((await call(eks, 'GetAnvisningsEnhederByNummer', { enhedsNummer: unit1 })).anvisningsEnhed);
  assert.strictEqual(got.length, 1);
  const u = got[0];
  const want = {
    anvisningsenhedsNummer: unit1, daginstitutionsNummer: di1, dagtilbudsNavn: 'Rundtur',
    instType3: '6011', instType3_Tekst: 'Børnehave (3-5 år)', kommuneKode: '101',
    kommuneKode_Tekst: 'København', vejNavn: 'Byvej', husNummer: '12B', postNummer: '2100',
    byNavn: 'København Ø', supplerendeBynavn: 'Østerbro', email: 'rund@tur.dk',
    telefonNummer: '+45 33 12 34 56', cvrNummer: '10000009', pNummer: '1000000001',
    geoBredde: '55.7', geoLaengde: '12.57', aktivitetsstatus: 'Aktiv', etage: '2', doer: 'th',
    dawaId: '0a3f50a0-1234-4abc-8def-0123456789ab', version: '1',
  };
  for (const [k, v] of Object.entries(want)) assert.strictEqual(String(u[k]), v, k);
  assert.ok(!('virkningTil' in u));
  ok('round trip: InsertDaginstitution -> GetAnvisningsEnhederByNummer field for field');
  // ... and through REST
  const rest = await (await fetch(URL + '/v1/anvisningsenheder/' + unit1)).json();
  const a = rest.adresse;
  const viaRest = {
    anvisningsenhedsNummer: rest.nummer, daginstitutionsNummer: rest.daginstitutionsNummer,
    dagtilbudsNavn: rest.navn, instType3: rest.instType3, kommuneKode: a.kommuneKode,
    vejNavn: a.vejNavn, husNummer: a.husNummer, postNummer: a.postNummer, byNavn: a.byNavn,
    supplerendeBynavn: a.supplerendeBynavn, email: rest.email, telefonNummer: rest.telefonNummer,
    cvrNummer: rest.cvrNummer, pNummer: rest.pNummer, geoBredde: a.geoBredde,
    geoLaengde: a.geoLaengde, etage: a.etage, doer: a.doer, dawaId: a.dawaId,
    virkningFra: rest.virkningFra, version: rest.version, opdateret: rest.opdateret,
  };
  for (const [k, v] of Object.entries(viaRest)) assert.strictEqual(String(u[k]), String(v), k);
  ok('round trip: the same record through REST field for field');

  r = await importCall(imp, 'InsertAnvisningsEnhed', doc('anvisningsEnhed', ae({ parent: di1, navn: 'Tredje', cvr: '10000017', pnr: '1000000003' })));
  assert.strictEqual(r.status, 'OK', JSON.stringify(r));
  const unit3 = r.nummer;
  ok('InsertAnvisningsEnhed');
  r = await importCall(imp, 'InsertAlternativAdresse', doc('alternativAdresse', aa({ parent: unit3, navn: 'Filial', cvr: '10000017', pnr: '1000000004' })));
  assert.strictEqual(r.status, 'OK', JSON.stringify(r));
  const adr1 = r.nummer;
  ok('InsertAlternativAdresse');

  // update: whole record; If-Match from version
  r = await importCall(imp, 'UpdateDaginstitution', doc('daginstitution', di({ nummer: di1, navn: 'Solsikken II', version: 1 })));
  assert.strictEqual(r.status, 'OK', JSON.stringify(r));
  assert.strictEqual(r.version, '2');
  r = await importCall(imp, 'UpdateDaginstitution', doc('daginstitution', di({ nummer: di1, navn: 'For sent', version: 1 })));
  assert.deepStrictEqual(r.fejl.map((f) => f.kode), ['VERSIONSKONFLIKT']);
  ok('UpdateDaginstitution with version (If-Match): OK, then VERSIONSKONFLIKT');

  // fields left out are cleared; the kept ones (geo, dawaId) stay
  r = await importCall(imp, 'UpdateAnvisningsEnhed', doc('anvisningsEnhed', ae({ nummer: unit1, parent: di1, navn: 'Rundtur', cvr: '10000009', pnr: '1000000001' })));
  assert.strictEqual(r.status, 'OK', JSON.stringify(r));
  const after = arr((await call(eks, 'GetAnvisningsEnhederByNummer', { enhedsNummer: unit1 })).anvisningsEnhed)[0];
  assert.ok(!('email' in after) && !('telefonNummer' in after) && !('etage' in after), JSON.stringify(after));
  assert.strictEqual(String(after.geoBredde), '55.7');
  assert.strictEqual(after.dawaId, '0a3f50a0-1234-4abc-8def-0123456789ab');
  ok('UpdateAnvisningsEnhed: left-out fields cleared, geo and dawaId kept');

  r = await importCall(imp, 'UpdateAlternativAdresse', doc('alternativAdresse', aa({ nummer: adr1, parent: unit3, navn: 'Filial 2' })));
  assert.strictEqual(r.status, 'OK', JSON.stringify(r));
  ok('UpdateAlternativAdresse');

  // moves: within the kommune, and across (refused)
  r = await importCall(imp, 'InsertDaginstitution', doc('daginstitution', di({ navn: 'Nabo' })));
  const di2 = r.nummer;
  r = await importCall(imp, 'InsertDaginstitution', doc('daginstitution', di({ navn: 'Aarhus', kommune: 751, fra: '2020-01-01' })));
  const di3 = r.nummer;
  r = await importCall(imp, 'MoveAnvisningsEnhed', doc('flytning', el('nummer', unit3) + el('nyForaelder', di2)));
  assert.strictEqual(r.status, 'OK', JSON.stringify(r));
  r = await importCall(imp, 'MoveAnvisningsEnhed', doc('flytning', el('nummer', unit3) + el('nyForaelder', di3)));
  assert.deepStrictEqual(r.fejl.map((f) => f.kode), ['FLYT_PAA_TVAERS']);
  ok('MoveAnvisningsEnhed within the kommune; across is FLYT_PAA_TVAERS');
  r = await importCall(imp, 'MoveAlternativAdresse', doc('flytning', el('nummer', adr1) + el('nyForaelder', unit2)));
  assert.strictEqual(r.status, 'OK', JSON.stringify(r));
  ok('MoveAlternativAdresse');

  // no cascade; delete an erroneous registration
  r = await importCall(imp, 'DeleteAnvisningsEnhed', doc('sletning', el('nummer', unit2) + el('virkningTil', '2030-01-01')));
  assert.deepStrictEqual(r.fejl.map((f) => f.kode), ['HAR_AKTIVE_BOERN']);
  r = await importCall(imp, 'DeleteDaginstitution', doc('sletning', el('nummer', di1) + el('fejlregistrering', 'true')));
  assert.deepStrictEqual(r.fejl.map((f) => f.kode), ['HAR_BOERN']);
  ok('DeleteAnvisningsEnhed / DeleteDaginstitution refused while children are in effect (no cascade)');
  r = await importCall(imp, 'DeleteAlternativAdresse', doc('sletning', el('nummer', adr1) + el('fejlregistrering', 'true')));
  assert.strictEqual(r.status, 'OK', JSON.stringify(r));
  r = await importCall(imp, 'DeleteAnvisningsEnhed', doc('sletning', el('nummer', unit3) + el('virkningTil', '2031-01-01')));
  assert.strictEqual(r.status, 'OK', JSON.stringify(r));
  const closed = arr((await call(eks, 'GetAnvisningsEnhederByNummer', { enhedsNummer: unit3 })).anvisningsEnhed)[0];
  assert.ok(closed.virkningTil, JSON.stringify(closed));
  r = await importCall(imp, 'DeleteDaginstitution', doc('sletning', el('nummer', di3)));
  assert.strictEqual(r.status, 'OK', JSON.stringify(r)); // virkningTil: today
  const gone = arr((await call(eks, 'GetDaginstitutionByNummer', { DagInstitutionsNummer: di3 })).daginstitution)[0];
  assert.strictEqual(gone.aktivitetsstatus, 'Nedlagt', JSON.stringify(gone));
  ok('DeleteAlternativAdresse (fejlregistrering), DeleteAnvisningsEnhed and DeleteDaginstitution (nedlæg)');

  // roles and scope
  r = await importCall(kom, 'InsertDaginstitution', doc('daginstitution', di({ navn: 'Udenfor', kommune: 147 })));
  assert.deepStrictEqual(r.fejl.map((f) => f.kode), ['IKKE_TILLADT']);
  r = await importCall(kom, 'InsertDaginstitution', doc('daginstitution', di({ navn: 'Privat', ejerform: 3, lovgrundlag: 4 })));
  assert.deepStrictEqual(r.fejl.map((f) => f.kode), ['IKKE_TILLADT']);
  r = await importCall(kom, 'InsertDaginstitution', doc('daginstitution', di({ navn: 'Egen' })));
  assert.strictEqual(r.status, 'OK', JSON.stringify(r));
  ok('a kommune client: its own kommune OK; another kommune and private ownership IKKE_TILLADT');

  // faults
  const bad = await clients('ImportService', SUPPORT_ID, 'wrong', false);
  let e = await fault(call(bad, 'HelloWorld', {}));
  assert.strictEqual(e.response && e.response.status, 401);
  const anon = await clients('ImportService', null, null, false);
  e = await fault(call(anon, 'HelloWorld', {}));
  assert.strictEqual(e.response && e.response.status, 401);
  ok('ImportService without or with wrong credentials: 401');
  e = await fault(call(eks, 'GetDaginstitutionByNummer', { DagInstitutionsNummer: 'nej' }));
  assert.strictEqual(e.response.status, 500);
  assert.match(e.body, /soap:Client/);
  assert.match(e.body, /<kode>UGYLDIGT_FORMAT<\/kode><felt>\/Envelope\/Body\/GetDaginstitutionByNummer\/DagInstitutionsNummer<\/felt>/);
  e = await fault(call(eks12, 'GetAnvisningsEnhederByPnummer', { pNummer: '12' }));
  assert.strictEqual(e.response.status, 400);
  assert.match(e.body, /env:Sender/);
  ok('a wrong parameter type is a fault: SOAP 1.1 500 soap:Client, SOAP 1.2 400 env:Sender');

  // ---- EksportService ----
  assert.match(await call(eks, 'HelloWorld', {}), /^Hello /);
  ok('EksportService HelloWorld');
  let res = await call(eks, 'GetAllDagtilbud', {});
  let all = arr(res.daginstitution);
  const mine = all.find((d) => d.daginstitutionsNummer === di1);
  assert.ok(mine && arr(mine.anvisningsEnhed).length === 2, JSON.stringify(mine));
  const withAdr = arr(mine.anvisningsEnhed).find((x) => x.anvisningsenhedsNummer === unit2);
  assert.strictEqual(arr(withAdr.alternativAdresse).length, 0); // the adresse was deleted
  assert.strictEqual(mine.ejerformKode_Tekst, 'Kommunal');
  ok('GetAllDagtilbud: three levels nested with _Tekst texts (' + all.length + ' daginstitutioner)');
  res = await call(eks12, 'GetAllDagtilbud', {});
  assert.strictEqual(arr(res.daginstitution).length, all.length);
  ok('GetAllDagtilbud over SOAP 1.2');
  res = await call(eks, 'GetDagtilbudByDagInstitutionsNummer', { DagInstitutionsNummer: di1 });
  assert.strictEqual(arr(res.daginstitution).length, 1);
  assert.strictEqual(arr(arr(res.daginstitution)[0].anvisningsEnhed).length, 2);
  ok('GetDagtilbudByDagInstitutionsNummer');
  res = await call(eks, 'GetDagtilbudByAdmKommuneNummer', { AdmkommuneNummer: 751 });
  assert.deepStrictEqual(arr(res.daginstitution).map((d) => d.daginstitutionsNummer), [di3]);
  ok('GetDagtilbudByAdmKommuneNummer');
  res = await call(eks, 'GetAllDaginstitutioner', {});
  all = arr(res.daginstitution);
  assert.ok(all.length >= 4 && !all.some((d) => d.anvisningsEnhed));
  ok('GetAllDaginstitutioner (without children)');
  res = await call(eks, 'GetDaginstitutionByNummer', { DagInstitutionsNummer: di2 });
  assert.strictEqual(arr(res.daginstitution)[0].daginstitutionsNavn, 'Nabo');
  res = await call(eks, 'GetDaginstitutionByNummer', { DagInstitutionsNummer: 'Z99999' });
  assert.strictEqual(arr(res && res.daginstitution).length, 0);
  ok('GetDaginstitutionByNummer (found and unknown)');
  res = await call(eks, 'GetDaginstitutionByNavn', { partOfName: 'SOLSIK' });
  assert.deepStrictEqual(arr(res.daginstitution).map((d) => d.daginstitutionsNummer), [di1]);
  ok('GetDaginstitutionByNavn is a case-insensitive substring');
  res = await call(eks, 'GetAllAnvisningsEnheder', {});
  assert.ok(arr(res.anvisningsEnhed).length >= 3);
  ok('GetAllAnvisningsEnheder');
  res = await call(eks, 'GetAnvisningsEnhederByPnummer', { pNummer: '1000000001' });
  assert.deepStrictEqual(arr(res.anvisningsEnhed).map((x) => x.anvisningsenhedsNummer), [unit1]);
  ok('GetAnvisningsEnhederByPnummer');
  res = await call(eks, 'GetAnvisningsEnhederByCvrnummer', { cvrNummer: '10000017' });
  assert.deepStrictEqual(arr(res.anvisningsEnhed).map((x) => x.anvisningsenhedsNummer), [unit3]);
  ok('GetAnvisningsEnhederByCvrnummer');
  res = await call(eks, 'GetAnvisningsEnhederByNavn', { partOfName: 'vuggestu' });
  assert.deepStrictEqual(arr(res.anvisningsEnhed).map((x) => x.anvisningsenhedsNummer), [unit2]);
  ok('GetAnvisningsEnhederByNavn');
  res = await call(eks, 'GetAnvisningsEnhederByDaginstitutionsnummer', { DagInstitutionsNummer: di2 });
  assert.deepStrictEqual(arr(res.anvisningsEnhed).map((x) => x.anvisningsenhedsNummer), [unit3]);
  ok('GetAnvisningsEnhederByDaginstitutionsnummer (the moved unit)');

  r = await importCall(imp, 'InsertAlternativAdresse', doc('alternativAdresse', aa({ parent: unit1, navn: 'Anneks', cvr: '10000025', pnr: '1000000005' })));
  const adr2 = r.nummer;
  res = await call(eks, 'GetAllAlternativAdresser', {});
  assert.ok(arr(res.alternativAdresse).some((x) => x.alternativAdresseNummer === adr2));
  ok('GetAllAlternativAdresser');
  res = await call(eks, 'GetAlternativAdresserByCvrnummer', { cvrNummer: '10000025' });
  assert.deepStrictEqual(arr(res.alternativAdresse).map((x) => x.alternativAdresseNummer), [adr2]);
  res = await call(eks, 'GetAlternativAdresserByPnummer', { pNummer: '1000000005' });
  assert.deepStrictEqual(arr(res.alternativAdresse).map((x) => x.alternativAdresseNummer), [adr2]);
  ok('GetAlternativAdresserByCvrnummer and ByPnummer');
  res = await call(eks, 'GetKodetabel', { navn: 'institutionstyper' });
  const koder = arr(res.kode);
  assert.strictEqual(koder.length, 8);
  assert.strictEqual(koder.find((k) => String(k.kode) === '6013').tekst.startsWith('Dagpleje'), true);
  res = await call(eks, 'GetKodetabel', { navn: 'kommuner' });
  assert.strictEqual(arr(res.kode).length, 98);
  e = await fault(call(eks, 'GetKodetabel', { navn: 'farver' }));
  assert.match(e.body, /UKENDT_KODE/);
  ok('GetKodetabel (and an unknown table is a fault)');

  console.log('all ' + checks + ' checks passed');
}

main().catch((e) => {
  console.error('FAILED: ' + (e && e.stack ? e.stack : e));
  if (e && e.body) console.error(e.body);
  process.exit(1);
});
