import { createHmac } from 'node:crypto';
import type { Transporter } from 'nodemailer';
import type { AlertsConfig } from '../config/alerts-schema.js';
import type { Alert } from './alert-log.js';

/** How long a webhook may take to answer, and the waits before its retries (ms). */
const WEBHOOK_TIMEOUT_MS = 10_000;
const RETRY_WAITS_MS = [1_000, 5_000, 30_000];

/** The signature of a webhook body: `sha256=` HMAC-SHA256 of `{timestamp}.{body}` with the secret. */
export function signAlert(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Sends alerts to the configured webhooks and e-mail addresses, at most `maxPerHour` an hour. */
export class Notifier {
  private readonly sentAt: number[] = [];
  private readonly mailer: Promise<Transporter> | null;
  /** Set by `close`: retries stop waiting, nothing more is sent. */
  private closed = false;
  private readonly wakers = new Set<() => void>();

  constructor(
    private readonly config: AlertsConfig,
    private readonly log: (line: string) => void,
  ) {
    const smtp = config.email?.smtp;
    // nodemailer is loaded only by a gateway that sends e-mail (≈ 15 MB of memory otherwise spent).
    this.mailer = smtp
      ? import('nodemailer').then(({ default: nodemailer }) =>
          nodemailer.createTransport({
            host: smtp.host,
            port: smtp.port,
            secure: smtp.secure,
            ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.pass ?? '' } } : {}),
            connectionTimeout: 10_000,
            greetingTimeout: 10_000,
            socketTimeout: 20_000,
          }),
        )
      : null;
  }

  /** True when some channel is configured. */
  get hasChannel(): boolean {
    return this.config.webhooks.length > 0 || this.mailer !== null;
  }

  /** Whether the hour's budget allows one more notification (and takes it). */
  private allow(now: number): boolean {
    while (this.sentAt.length && this.sentAt[0]! <= now - 3_600_000) this.sentAt.shift();
    if (this.sentAt.length >= this.config.maxPerHour) return false;
    this.sentAt.push(now);
    return true;
  }

  /** Sends one alert on every channel; what became of it. */
  async send(alert: Alert, now = Date.now()): Promise<Alert['notified']> {
    if (!this.hasChannel) return 'no_channel';
    if (!this.allow(now)) return 'rate_limited';
    const results = await Promise.all([
      ...this.config.webhooks.map((hook) => this.webhook(hook, alert)),
      ...(this.mailer ? [this.mail(alert)] : []),
    ]);
    return results.some(Boolean) ? 'sent' : 'failed';
  }

  private async webhook(hook: { url: string; secret: string }, alert: Alert): Promise<boolean> {
    // What became of the notification is not known yet: not part of the message.
    const { notified: _pending, ...message } = alert;
    const body = JSON.stringify({ type: 'balise.alert', ...message });
    for (let attempt = 0; ; attempt++) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      try {
        const response = await fetch(hook.url, {
          method: 'POST',
          redirect: 'manual',
          headers: {
            'content-type': 'application/json',
            'x-balise-timestamp': timestamp,
            'x-balise-signature': signAlert(hook.secret, timestamp, body),
          },
          body,
          signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
        });
        await response.body?.cancel();
        if (response.ok) return true;
        // A 4xx other than 408/429 will not change by retrying.
        if (response.status < 500 && response.status !== 408 && response.status !== 429) {
          this.log(`alerts: the webhook ${new URL(hook.url).host} refused an alert (${response.status})`);
          return false;
        }
        throw new Error(`HTTP ${response.status}`);
      } catch (error) {
        if (attempt >= RETRY_WAITS_MS.length || this.closed) {
          this.log(
            `alerts: the webhook ${new URL(hook.url).host} failed ${attempt + 1} times (${error instanceof Error ? error.message : String(error)}); alert ${alert.id} not delivered there`,
          );
          return false;
        }
        await this.wait(RETRY_WAITS_MS[attempt]!);
        if (this.closed) return false;
      }
    }
  }

  private async mail(alert: Alert): Promise<boolean> {
    const email = this.config.email!;
    try {
      await (
        await this.mailer!
      ).sendMail({
        from: email.from,
        to: email.to,
        subject: `[Balise] ${alert.state === 'start' ? '' : 'ended: '}${alert.detector} on ${alert.site}`,
        text: `${alert.text}\n\n${alert.detector} · ${alert.site} · ${alert.subject}\n${alert.state} at ${alert.time}\n`,
      });
      return true;
    } catch (error) {
      this.log(`alerts: e-mail failed (${error instanceof Error ? error.message : String(error)})`);
      return false;
    }
  }

  /** Waits `ms` before a retry, or less when the notifier closes. */
  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.wakers.add(done);
    });
  }

  /** Stops the retries in progress (they count as failed) and closes the SMTP connections. */
  close(): void {
    this.closed = true;
    for (const wake of [...this.wakers]) wake();
    void this.mailer?.then((mailer) => mailer.close());
  }
}
