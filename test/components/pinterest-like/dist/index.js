"use strict";
var __defProp = Object.defineProperty;
var __export = (target, all) => { for (var name in all) __defProp(target, name, { get: all[name], enumerable: true }); };
var src_exports = {};
__export(src_exports, { default: () => src_default });
module.exports = { __esModule: true, default: src_exports };
const sha256 = async (text) => {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
};
async function send(manager, settings, event, eventName) {
  const payload = event.payload;
  // As the published component does: the event may carry the account and token.
  const token = payload.accessToken || settings.accessToken;
  const account = payload.conversionId || settings.adAccountId;
  const endpoint = payload.__setting_endpoint || settings.endpoint || 'https://api.pinterest.com';
  const body = {
    data: [
      {
        event_name: eventName,
        action_source: 'web',
        event_time: Math.floor(event.client.timestamp / 1000),
        event_id: payload.__eventId,
        event_source_url: event.client.url.href,
        user_data: { external_id: [await sha256(event.client.get('client_id'))], client_user_agent: event.client.userAgent },
        custom_data: payload.value !== undefined ? { value: String(payload.value), currency: payload.currency || 'EUR' } : {},
      },
    ],
  };
  await manager.fetch(`${endpoint}/v5/ad_accounts/${account}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
}
function src_default(manager, settings) {
  manager.addEventListener('pageview', (event) => send(manager, settings, event, 'page_visit'));
  manager.addEventListener('ecommerce', (event) => send(manager, settings, event, 'checkout'));
  manager.addEventListener('event', (event) => send(manager, settings, event, 'custom'));
}
