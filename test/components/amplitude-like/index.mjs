export default function (manager, settings) {
  const send = (event, type) => {
    // Not awaited, as the published components do.
    manager.fetch(`${settings.endpoint}/2/httpapi`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        api_key: settings.apiKey,
        events: [
          {
            event_type: type,
            device_id: event.client.get('client_id'),
            time: event.client.timestamp,
            insert_id: event.payload.__eventId,
            event_properties: { revenue: event.payload.ecommerce?.revenue },
          },
        ],
      }),
    });
  };
  manager.addEventListener('pageview', (event) => send(event, '[Amplitude] Page Viewed'));
  manager.addEventListener('ecommerce', (event) => send(event, event.name));
}
