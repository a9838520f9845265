import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { BaliseError } from '../errors.js';

/** Name of the dashboard's session cookie. */
export const SESSION_COOKIE = 'balise_session';
/** Header carrying the CSRF token on every change. */
export const CSRF_HEADER = 'x-balise-csrf';

const LIFETIME_MS = 8 * 3_600_000;
const MAX_REVOKED = 100_000;

interface Session {
  csrf: string;
  expires: number;
}

/**
 * Where sessions ended by a logout are told to every gateway on the same store (store_facts): a
 * session id is valid on any gateway (signed with a key they share), so a logout must reach them all.
 */
export interface SessionRevocations {
  revoke(nonce: string, expires: number): Promise<void>;
  /** The nonces of ended sessions with their expiry (epoch ms). */
  revoked(): Promise<Map<string, number>>;
}

/** Reads one cookie from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

// How often a gateway reads the logouts other gateways recorded.
const REVOCATIONS_REFRESH_MS = 5_000;

/**
 * Dashboard sessions that any gateway on the store recognises: the cookie is
 * `expiry.nonce.HMAC(key, expiry.nonce)` under a key the gateways share (kept in the store), the
 * CSRF token is derived from it, and nothing per session is kept — but the logouts, which every
 * gateway learns within five seconds. HttpOnly, SameSite=Strict cookie; the CSRF token travels in a
 * header on every change.
 */
export class Sessions {
  private readonly revoked = new Map<string, number>();
  private lastRefresh = 0;
  private refreshing = false;

  constructor(
    private readonly key: Buffer = randomBytes(32),
    private readonly shared?: SessionRevocations,
  ) {}

  private mac(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64url');
  }

  /** Starts a session; returns its cookie value and CSRF token. */
  create(now = Date.now()): { id: string; csrf: string } {
    const body = `${(now + LIFETIME_MS).toString(36)}.${randomBytes(16).toString('base64url')}`;
    const id = `${body}.${this.mac(body)}`;
    return { id, csrf: this.mac(`csrf:${id}`) };
  }

  /** The session of a request, if its cookie names a live one. */
  find(request: FastifyRequest, now = Date.now()): (Session & { id: string }) | undefined {
    this.refreshRevocations(now);
    const id = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (!id || id.length > 200) return undefined;
    const [expiry, nonce, mac] = id.split('.');
    if (!expiry || !nonce || !mac) return undefined;
    const expected = Buffer.from(this.mac(`${expiry}.${nonce}`));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const expires = parseInt(expiry, 36);
    if (!(expires > now) || this.revoked.has(nonce)) return undefined;
    return { id, expires, csrf: this.mac(`csrf:${id}`) };
  }

  /** Throws 403 unless the request carries the session's CSRF token (changes only). */
  checkCsrf(request: FastifyRequest, session: Session): void {
    const sent = Buffer.from(String(request.headers[CSRF_HEADER] ?? ''));
    const expected = Buffer.from(session.csrf);
    if (sent.length !== expected.length || !timingSafeEqual(sent, expected))
      throw new BaliseError('csrf', `send the ${CSRF_HEADER} header from the dashboard session`);
  }

  /** Ends a session here at once, and on every gateway of the store within seconds. */
  async end(id: string): Promise<void> {
    const [expiry, nonce] = id.split('.');
    if (!expiry || !nonce) return;
    const expires = parseInt(expiry, 36);
    this.remember(nonce, expires);
    await this.shared?.revoke(nonce, expires);
  }

  private remember(nonce: string, expires: number): void {
    if (this.revoked.size >= MAX_REVOKED) {
      const now = Date.now();
      for (const [n, e] of this.revoked) if (e <= now) this.revoked.delete(n);
    }
    this.revoked.set(nonce, expires);
  }

  /** Reads the logouts recorded by other gateways, at most every few seconds, in the background. */
  private refreshRevocations(now: number): void {
    if (!this.shared || this.refreshing || now - this.lastRefresh < REVOCATIONS_REFRESH_MS) return;
    this.refreshing = true;
    this.lastRefresh = now;
    this.shared.revoked().then(
      (revoked) => {
        for (const [nonce, expires] of revoked) if (expires > now) this.remember(nonce, expires);
        this.refreshing = false;
      },
      () => {
        this.refreshing = false; // the store is away: sessions ended elsewhere are learnt later
      },
    );
  }
}

/** The Set-Cookie value for a session (Secure when the request came over https). */
export function sessionCookie(
  id: string,
  path: string,
  secure: boolean,
  maxAgeSeconds = LIFETIME_MS / 1000,
): string {
  return `${SESSION_COOKIE}=${id}; Path=${path}; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}
