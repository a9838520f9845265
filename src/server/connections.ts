import type { Server } from 'node:http';
import { BlockList, isIP, type Socket } from 'node:net';

/** What the connection guard refused, for healthz and metrics. */
export interface ConnectionCounters {
  /** Connections open now. */
  open: number;
  /** Connections closed at once because their address already held its share. */
  refusedPerAddress: number;
}

/** The peers `trustedProxies` lists (IP addresses or CIDR ranges), as a set to test addresses against. */
export function addressSet(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return list;
}

function contains(list: BlockList, address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return list.check(mapped[1]!, 'ipv4');
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Caps the connections one client address may hold open (`perAddress`): a further connection
 * from it is closed as soon as it opens, so that one client (slow bodies, idle sockets) cannot
 * take every connection the server will accept (`server.maxConnections`) from the others.
 * Peers in `exempt` (trusted reverse proxies, which carry every visitor's requests) are not capped.
 */
export function guardConnections(server: Server, perAddress: number, exempt: BlockList): ConnectionCounters {
  const counters: ConnectionCounters = { open: 0, refusedPerAddress: 0 };
  const byAddress = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    counters.open++;
    socket.once('close', () => counters.open--);
    if (contains(exempt, address)) return;
    const held = byAddress.get(address) ?? 0;
    if (held >= perAddress) {
      counters.refusedPerAddress++;
      socket.destroy();
      return;
    }
    byAddress.set(address, held + 1);
    socket.once('close', () => {
      const left = (byAddress.get(address) ?? 1) - 1;
      if (left <= 0) byAddress.delete(address);
      else byAddress.set(address, left);
    });
  });
  return counters;
}
