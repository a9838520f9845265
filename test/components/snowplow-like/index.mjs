export default async function (manager, settings) {
  manager.createEventListener('mousemove', () => undefined);
  manager.registerEmbed('banner', () => '<div></div>');
  await manager.set('started', Date.now());
  manager.addEventListener('pageview', async (event) => {
    event.client.attachEvent('mousemove');
    const version = await manager.useCache('tracker-version', async () => 'js-3.0.0', 60);
    const started = await manager.get('started');
    await manager.fetch(`${settings.endpoint}/com.snowplowanalytics.snowplow/tp2`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4',
        data: [
          {
            e: 'pv',
            p: 'web',
            tv: version,
            aid: settings.appId,
            url: event.client.url.href,
            page: event.client.title,
            tz_offset: String(event.client.timezoneOffset),
            vp: `${event.client.viewportWidth}x${event.client.viewportHeight}`,
            dtm: String(event.client.timestamp),
            started: typeof started,
          },
        ],
      }),
    });
  });
  manager.addEventListener('event', async (event) => {
    await manager.fetch(`${settings.endpoint}/com.snowplowanalytics.snowplow/tp2`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4',
        data: [
          { e: 'se', p: 'web', tv: 'js-3.0.0', se_ca: event.payload.category ?? 'site', se_ac: event.name },
        ],
      }),
    });
  });
}
