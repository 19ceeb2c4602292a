// dagtilbud.js -- a dagtilbud's public page (/dagtilbud/<nummer>, any
// level): the daginstitution it belongs to as a tree, with its
// anvisningsenheder and alternative adresser, every code with its text, the
// status and a map link; the number asked for is marked.
import {el, fill, api, codeLists, dagtilbudTree, owningDaginstitution, announce}
  from '/ui/common.js';

async function main() {
  const nummer = decodeURIComponent(location.pathname.split('/').pop() || '');
  const box = document.getElementById('dagtilbud');
  try {
    await codeLists();
    const dagNummer = await owningDaginstitution(nummer);
    const {data: dag} = await api(`/v1/daginstitutioner/${encodeURIComponent(dagNummer)}`);
    document.title = `${dag.navn} – Dagtilbudsregisteret`;
    fill(document.getElementById('titel'), dag.navn);
    const link = (n, level, text) => n === nummer
      ? el('span', {'aria-current': 'page', class: 'valgt'}, text)
      : el('a', {href: `/dagtilbud/${encodeURIComponent(n)}`}, text);
    fill(box, dagtilbudTree(dag, link));
  } catch (e) {
    fill(document.getElementById('titel'), 'Dagtilbud');
    announce(e.status === 404 ? `Der er intet dagtilbud med nummeret ${nummer}.`
      : e.status === 410 ? `${nummer} er slettet.`
        : `Dagtilbuddet kunne ikke hentes: ${e.message}`, 'fejl');
  }
}

main();
