// Faults a component can have: a synchronous loop, memory it never gives back, rejections and
// timer errors nobody catches (as components that start async work without awaiting it do).
export const manifest = {
  name: 'faults',
  permissions: ['server_network_requests'],
  settings: { endpoint: {}, faults: { description: 'which of loop and hog this tool has' } },
};
const kept = [];
export default function (manager, settings) {
  const mine = (name) => (settings.faults ?? []).includes(name);
  manager.addEventListener('event', (event) => {
    if (event.name === 'loop' && mine('loop')) for (;;);
    if (event.name === 'hog' && mine('hog')) for (;;) kept.push(new Array(1e5).fill(Math.random()));
    if (event.name === 'timer')
      setTimeout(() => {
        throw new Error('error in a timer');
      }, 0);
    if (event.name === 'throw') throw new Error('thrown by the listener');
    if (event.name === 'hang') return new Promise(() => undefined);
    if (event.name === 'slow')
      return new Promise((resolve) => setTimeout(resolve, 300)).then(() =>
        manager.fetch(`${settings.endpoint}/slow`, { method: 'POST', body: 'slow' }),
      );
    manager.fetch(`${settings.endpoint}/ok`, { method: 'POST', body: event.name });
  });
  // Like a published component: work started without awaiting it, failing on an ecommerce event
  // without its ecommerce object.
  manager.addEventListener('ecommerce', (event) => {
    Promise.resolve().then(() => event.payload.ecommerce.products.length);
  });
}
