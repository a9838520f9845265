export default async function (manager, settings) {
  const send = async (event, name) => {
    let ttclid = event.client.get('ttclid');
    if (!ttclid) event.client.set('ttclid', (ttclid = `tt.${event.payload.__eventId}`), { scope: 'session' });
    await manager.fetch(`${settings.endpoint}/open_api/v1.3/event/track/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'access-token': settings.accessToken },
      body: JSON.stringify({
        event_source: 'web',
        event_source_id: settings.pixelCode,
        data: [
          {
            event: name,
            event_time: Math.floor(event.client.timestamp / 1000),
            event_id: event.payload.__eventId,
            user: { ttclid, external_id: event.client.get('client_id') },
            page: { url: event.client.url.href },
            properties: { value: event.payload.value, currency: event.payload.currency },
          },
        ],
      }),
    });
  };
  manager.addEventListener('pageview', (event) => send(event, 'Pageview'));
  manager.addEventListener('ViewContent', (event) => send(event, 'ViewContent'));
}
