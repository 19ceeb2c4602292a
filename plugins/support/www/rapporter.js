// rapporter.js -- the workplace's reports: the consistency report
// (daginstitutioner without an anvisningsenhed in effect, units without
// P-nummer) and the portal's webhook dead letters.
import {el, fill, api, codeText, formatAdresse} from '/ui/common.js';
import {failed} from '/ui/support.js';

function table(caption, head, rows) {
  return el('table', {class: 'liste'}, el('caption', {}, caption),
    el('thead', {}, el('tr', {}, head.map((h) => el('th', {scope: 'col'}, h)))), el('tbody', {}, rows));
}

const link = (n) => el('a', {href: `#/dagtilbud/${n}`}, n);

export async function showConsistency(view) {
  document.title = 'Konsistensrapport – Support';
  fill(view, el('h1', {}, 'Konsistensrapport'), el('p', {class: 'muted'}, 'Beregner …'));
  try {
    const {data} = await api('/support/api/konsistens');
    const dags = data.udenAktivEnhed.map((d) => el('tr', {}, el('td', {}, link(d.nummer)), el('td', {}, d.navn),
      el('td', {}, codeText('kommune', d.admKommuneKode))));
    const units = data.udenPNummer.map((u) => el('tr', {}, el('td', {}, link(u.nummer)), el('td', {}, u.navn),
      el('td', {}, link(u.daginstitutionsNummer)), el('td', {}, formatAdresse(u.adresse))));
    fill(view, el('h1', {}, 'Konsistensrapport'),
      el('p', {}, `Registeret som det er i dag (sekvensnummer ${data.sekvensnummer}).`),
      el('section', {class: 'card'},
        el('h2', {}, `Daginstitutioner uden en aktiv anvisningsenhed (${dags.length})`),
        dags.length ? table('Daginstitutioner uden aktiv anvisningsenhed', ['Nummer', 'Navn', 'Kommune'], dags)
          : el('p', {}, 'Ingen.')),
      el('section', {class: 'card'},
        el('h2', {}, `Anvisningsenheder uden P-nummer (${units.length})`),
        el('p', {class: 'muted'}, 'De kan ikke få Unilogin-brugere.'),
        units.length ? table('Anvisningsenheder uden P-nummer', ['Nummer', 'Navn', 'Daginstitution', 'Adresse'], units)
          : el('p', {}, 'Ingen.')));
  } catch (e) {
    failed(e, 'Rapporten kunne ikke hentes');
  }
}

const show = (v) => (v === null || v === undefined ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v));

export async function showWebhooks(view) {
  document.title = 'Webhooks – Support';
  try {
    const {data} = await api('/v1/portal/webhooks');
    const subs = Array.isArray(data) ? data : (data.webhooks || data.subscribers || []);
    const sections = subs.map((s) => {
      const parked = s.parked || [];
      const keys = [...new Set(parked.flatMap((p) => Object.keys(p)))];
      return el('section', {class: 'card'},
        el('h2', {}, s.url),
        el('dl', {class: 'facts'},
          el('dt', {}, 'Position'), el('dd', {}, show(s.position)),
          el('dt', {}, 'Venter'), el('dd', {}, show(s.pending)),
          el('dt', {}, 'Leveret'), el('dd', {}, show(s.delivered)),
          el('dt', {}, 'Under levering'), el('dd', {}, show(s.inFlight))),
        el('h3', {}, `Parkerede (døde) leverancer: ${parked.length}`),
        parked.length ? table(`Parkerede leverancer til ${s.url}`, keys,
          parked.map((p) => el('tr', {}, keys.map((k) => el('td', {}, show(p[k])))))) : el('p', {}, 'Ingen.'));
    });
    fill(view, el('h1', {}, 'Webhooks til Dagtilbudsportalen'),
      sections.length ? sections : el('p', {class: 'besked'}, 'Der er ingen webhook-modtagere sat op.'));
  } catch (e) {
    if (e.status === 404) {
      fill(view, el('h1', {}, 'Webhooks til Dagtilbudsportalen'),
        el('p', {class: 'besked'}, 'Portal-pluginet kører ikke på denne server.'));
      return;
    }
    failed(e, 'Webhooks kunne ikke hentes');
  }
}
