import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { BaliseError } from '../errors.js';

/** Name of the dashboard's session cookie. */
export const SESSION_COOKIE = 'balise_session';
/** Header carrying the CSRF token on every change. */
export const CSRF_HEADER = 'x-balise-csrf';

const LIFETIME_MS = 8 * 3_600_000;
const MAX_SESSIONS = 10_000;

interface Session {
  csrf: string;
  expires: number;
}

/** Reads one cookie from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

/**
 * Dashboard sessions, in this gateway's memory (per node, bounded; a restart logs everyone out):
 * a random id in an HttpOnly, SameSite=Strict cookie, and a CSRF token the page sends back in a
 * header on every change.
 */
export class Sessions {
  private readonly sessions = new Map<string, Session>();

  /** Starts a session; returns its cookie value and CSRF token. */
  create(now = Date.now()): { id: string; csrf: string } {
    if (this.sessions.size >= MAX_SESSIONS) {
      for (const [id, s] of this.sessions) if (s.expires <= now) this.sessions.delete(id);
      if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    }
    const id = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    this.sessions.set(id, { csrf, expires: now + LIFETIME_MS });
    return { id, csrf };
  }

  /** The session of a request, if its cookie names a live one. */
  find(request: FastifyRequest, now = Date.now()): (Session & { id: string }) | undefined {
    const id = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session || session.expires <= now) {
      if (session) this.sessions.delete(id);
      return undefined;
    }
    return { ...session, id };
  }

  /** Throws 403 unless the request carries the session's CSRF token (changes only). */
  checkCsrf(request: FastifyRequest, session: Session): void {
    const sent = Buffer.from(String(request.headers[CSRF_HEADER] ?? ''));
    const expected = Buffer.from(session.csrf);
    if (sent.length !== expected.length || !timingSafeEqual(sent, expected))
      throw new BaliseError('csrf', 403, `send the ${CSRF_HEADER} header from the dashboard session`);
  }

  /** Ends a session. */
  end(id: string): void {
    this.sessions.delete(id);
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
