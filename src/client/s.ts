/**
 * The Balise client script, served first-party at {prefix}/s.js (≤ 2 KB gzip, tested).
 * No cookies, no localStorage unless the script tag has `data-persist`; with
 * `data-consent="analytics,marketing"` events wait in the page until `balise.consent.set/setAll`
 * records a choice (first-party cookie `balise_consent`, 13 months), then carry it (Zaraz's consent API:
 * `set({purpose: bool})`, `get`, `getAll`, `setAll`, `sendQueuedEvents`, `APIReady` and the
 * `zarazConsentAPIReady` event on document). Sends pageviews (also on SPA
 * navigation), `balise.track`, `balise.ecommerce` and `dataLayer.push({event})` to {prefix}/e with
 * navigator.sendBeacon, falling back to fetch(..., {keepalive}). Calls made before it loads, on the
 * stub `window.balise = {q: []}`, are replayed.
 */
type Props = Record<string, unknown>;
type Scope = 'page' | 'session' | 'persist';
type Choices = Record<string, boolean>;
interface Consent {
  get: (purpose: string) => boolean | undefined;
  /** `set(purpose, granted)`, or Zaraz's object form `set({ purpose: granted, … })`. */
  set: (purpose: string | Choices, granted?: boolean) => void;
  getAll: () => Choices;
  setAll: (granted: boolean) => void;
  /** Zaraz's: sends the events held until a choice (a choice sends them too). */
  sendQueuedEvents: () => void;
  /** Zaraz's: true once the API is there (and `zarazConsentAPIReady` fired on document). */
  APIReady: boolean;
}
interface Api {
  track: (name: string, props?: Props) => void;
  set: (key: string, value: unknown, options?: { scope?: Scope }) => void;
  ecommerce: (name: string, props?: Props) => void;
  consent: Consent;
  /** Debug mode: with the site's debug key, this browser's events come back explained (console). */
  debug: (key?: string) => void;
  q?: [keyof Api, ArrayLike<unknown>][];
}
type Win = Window & { balise?: Api; zaraz?: Api; dataLayer?: Props[] };

((w: Win, d: Document, n: Navigator) => {
  const script = d.currentScript as HTMLScriptElement | null;
  const endpoint = script ? script.src.replace(/\/s\.js(\?.*)?$/, '/e') : '/balise/e';
  const persist = !!script && script.hasAttribute('data-persist');
  const queued = (w.balise && w.balise.q) || [];
  const KEY = 'balise_vars';
  let pageVars: Props = {};
  let lastUrl = '';
  let referer = d.referrer;
  const buffer: Props[] = [];
  let timer = 0;
  const CK = 'balise_consent';
  const purposes = ((script && script.getAttribute('data-consent')) || '').split(',').filter(Boolean);
  let choices: Choices | null = null;
  try {
    const m = d.cookie.match(/(?:^|; )balise_consent=([^;]*)/);
    if (m) choices = JSON.parse(decodeURIComponent(m[1])) as Choices;
  } catch {
    choices = null;
  }
  const choose = (update: Choices): void => {
    choices = { ...(choices || {}), ...update };
    d.cookie = `${CK}=${encodeURIComponent(JSON.stringify(choices))}; path=/; max-age=34128000; samesite=lax${location.protocol === 'https:' ? '; secure' : ''}`;
    flush();
  };

  const storage = (scope: Scope | undefined): Storage | null => {
    try {
      return scope === 'persist' && persist
        ? localStorage
        : scope === 'session' || scope === 'persist'
          ? sessionStorage
          : null;
    } catch {
      return null;
    }
  };
  const read = (s: Storage | null): Props => {
    try {
      return (s && (JSON.parse(s.getItem(KEY) || '{}') as Props)) || {};
    } catch {
      return {};
    }
  };

  const flush = (): void => {
    timer = 0;
    // With data-consent, nothing leaves the page before a choice.
    if (purposes.length && !choices) return;
    while (buffer.length) {
      const events = buffer.splice(0, 50);
      if (choices) for (const e of events) e.consent = choices;
      const body = JSON.stringify(events.length > 1 ? { events } : events[0]);
      // Debug mode: the answer says what each tool received and sent; shown in the console.
      const key = d.cookie.match(/(?:^|; )balise_debug=([^;]+)/);
      if (key) {
        fetch(endpoint, {
          method: 'POST',
          body,
          credentials: 'omit',
          headers: { 'content-type': 'text/plain', 'x-balise-debug': key[1] || '' },
        })
          .then((r) => (r.status === 200 ? r.json() : null))
          .then((a: { debug?: { event: Props }[] } | null) => {
            for (const t of (a && a.debug) || [])
              console.info('[balise debug]', t.event.type, t.event.name || '', t);
          })
          .catch(() => undefined);
      } else if (!(n.sendBeacon && n.sendBeacon(endpoint, body))) {
        fetch(endpoint, {
          method: 'POST',
          body,
          keepalive: true,
          credentials: 'omit',
          headers: { 'content-type': 'text/plain' },
        }).catch(() => undefined);
      }
    }
  };

  const send = (eventType: string, name?: string, props?: Props): void => {
    const payload: Props = {};
    const sources = [read(storage('persist')), read(storage('session')), pageVars, props || {}];
    for (const source of sources)
      for (const k in source) if (Object.prototype.hasOwnProperty.call(source, k)) payload[k] = source[k];
    buffer.push({
      eventType,
      name,
      payload: Object.keys(payload).length ? payload : undefined,
      location: location.href,
      title: d.title,
      referer,
      timestamp: Date.now(),
      offset: new Date().getTimezoneOffset(),
      language: n.language,
      screenWidth: screen.width,
      screenHeight: screen.height,
      viewportWidth: w.innerWidth,
      viewportHeight: w.innerHeight,
    });
    if (!timer) timer = w.setTimeout(flush, 0);
  };

  const pageview = (): void => {
    const url = location.href.split('#')[0] || '';
    if (url === lastUrl) return;
    if (lastUrl) referer = lastUrl;
    lastUrl = url;
    send('pageview');
  };

  // A new page from the moment its address changes: variables `set` for it from then on belong
  // to it, even before its pageview is sent (a tick later, once the app has set its title).
  const navigated = (): void => {
    if ((location.href.split('#')[0] || '') !== lastUrl) pageVars = {};
    w.setTimeout(pageview, 0);
  };

  const api: Api = {
    consent: {
      get: (purpose) => (choices ? choices[purpose] : undefined),
      getAll: () => ({ ...(choices || {}) }),
      set: (purpose, granted) => {
        if (purpose && typeof purpose === 'object') {
          const update: Choices = {};
          for (const key of Object.keys(purpose)) update[key] = !!purpose[key];
          choose(update);
        } else choose({ [String(purpose)]: !!granted });
      },
      setAll: (granted) => {
        const all: Choices = {};
        for (const p of purposes.length ? purposes : Object.keys(choices || {})) all[p] = !!granted;
        choose(all);
      },
      sendQueuedEvents: () => flush(),
      APIReady: true,
    },
    debug: (key) => {
      d.cookie = `balise_debug=${key ? encodeURIComponent(key) : ''}; path=/; samesite=strict${key ? '' : '; max-age=0'}`;
    },
    track: (name, props) => send('track', String(name), props),
    ecommerce: (name, props) => send('ecommerce', String(name), props),
    set: (key, value, options) => {
      const scope = options && options.scope;
      const s = storage(scope);
      const target = s ? read(s) : pageVars;
      if (value === undefined) delete target[key];
      else target[key] = value;
      if (s) s.setItem(KEY, JSON.stringify(target));
    },
  };
  w.balise = api;
  if (!w.zaraz) w.zaraz = api;
  d.dispatchEvent(new Event('zarazConsentAPIReady'));

  const history = w.history;
  for (const method of ['pushState', 'replaceState'] as const) {
    const original = history[method].bind(history);
    history[method] = (...args: Parameters<History['pushState']>) => {
      original(...args);
      navigated();
    };
  }
  w.addEventListener('popstate', navigated);
  w.addEventListener('pagehide', flush);

  pageview();
  for (const [method, args] of queued) {
    const fn = api[method] as unknown as (...a: unknown[]) => void;
    if (typeof fn === 'function') fn(...(Array.prototype.slice.call(args) as unknown[]));
  }

  const dataLayer = (w.dataLayer = w.dataLayer || []);
  const fromDataLayer = (entry: Props): void => {
    const event = entry && entry.event;
    if (typeof event !== 'string' || event.indexOf('gtm.') === 0) return;
    const props: Props = {};
    for (const k in entry)
      if (k !== 'event' && Object.prototype.hasOwnProperty.call(entry, k)) props[k] = entry[k];
    api.track(event, props);
  };
  dataLayer.forEach(fromDataLayer);
  const push = dataLayer.push;
  dataLayer.push = (...entries: Props[]) => {
    entries.forEach(fromDataLayer);
    return push.apply(dataLayer, entries);
  };
})(window, document, navigator);
