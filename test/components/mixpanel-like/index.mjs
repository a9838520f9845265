export default async function (manager) {
  manager.addEventListener('event', async (event) => {
    const { token, endpoint, ...properties } = event.payload;
    const response = await fetch(`${endpoint}/track`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/plain' },
      body: JSON.stringify([
        {
          event: event.name,
          properties: {
            ...properties,
            token,
            time: Math.floor(event.client.timestamp / 1000),
            distinct_id: event.client.get('client_id'),
            $insert_id: properties.__eventId,
          },
        },
      ]),
    });
    event.client.return({ status: response.status });
  });
}
