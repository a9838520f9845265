import { createServer, type Server } from 'node:http';

/** Pages of the demo website: a tiny single-page app with links handled by history.pushState. */
const PAGES: Record<string, { title: string; body: string }> = {
  '/': {
    title: 'Le Quotidien Démo — Accueil',
    body: 'Bienvenue. Navigate with the links: each view is a pageview (SPA).',
  },
  '/politique': {
    title: 'Politique — Le Quotidien Démo',
    body: 'Soirée électorale : les résultats tombent.',
  },
  '/sport': { title: 'Sport — Le Quotidien Démo', body: 'Le match de ce soir.' },
  '/boutique': { title: 'Boutique — Le Quotidien Démo', body: 'Abonnement numérique, 9,99 € par mois.' },
};

function page(gatewayUrl: string, prefix: string): string {
  const nav = Object.entries(PAGES)
    .map(([path, p]) => `<a href="${path}" data-spa>${p.title.split(' — ')[0]}</a>`)
    .join(' · ');
  return `<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>${PAGES['/']!.title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script src="/stub.js"></script>
<script async src="${gatewayUrl}${prefix}/s.js"></script>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem}button{margin:.25rem}</style>
</head><body>
<header><strong>Le Quotidien Démo</strong> — a demo website measured by Balise</header>
<nav>${nav}</nav>
<main><h1 id="title"></h1><p id="body"></p>
<button id="track">zaraz.track("newsletter_signup")</button>
<button id="datalayer">dataLayer.push({event: "video_play"})</button>
<button id="buy">balise.ecommerce("Order Completed")</button></main>
<script src="/app.js"></script>
</body></html>`;
}

// Calls made before s.js loads are queued on this stub and replayed by the script.
const STUB = `window.balise=window.balise||{q:[]};["track","set","ecommerce"].forEach(function(m){balise[m]=balise[m]||function(){balise.q.push([m,arguments])}});`;

const APP = `var pages=${JSON.stringify(PAGES)};
function render(){var p=pages[location.pathname]||pages['/'];document.title=p.title;document.getElementById('title').textContent=p.title.split(' — ')[0];document.getElementById('body').textContent=p.body}
document.addEventListener('click',function(e){var a=e.target.closest&&e.target.closest('a[data-spa]');if(!a)return;e.preventDefault();history.pushState({},'',a.getAttribute('href'));render()});
window.addEventListener('popstate',render);
document.getElementById('track').onclick=function(){zaraz.track('newsletter_signup',{plan:'free'})};
document.getElementById('datalayer').onclick=function(){(window.dataLayer=window.dataLayer||[]).push({event:'video_play',video:'journal-20h'})};
document.getElementById('buy').onclick=function(){balise.ecommerce('Order Completed',{order_id:'D-1001',total:9.99,currency:'EUR'})};
render();`;

/** Starts the demo website on `port`; its pages load the gateway's script from `gatewayUrl`. */
export function startDemoSite(options: {
  port: number;
  host: string;
  gatewayUrl: string;
  prefix: string;
}): Promise<Server> {
  const html = page(options.gatewayUrl, options.prefix);
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const send = (type: string, body: string) => {
      response.writeHead(200, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' });
      response.end(body);
    };
    if (path === '/stub.js') return send('application/javascript', STUB);
    if (path === '/app.js') return send('application/javascript', APP);
    if (path in PAGES) return send('text/html', html);
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve(server));
  });
}
