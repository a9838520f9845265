import { z } from 'zod';
import { querySchema } from '../insights/model.js';
import { DETECTOR_NAMES } from '../insights/detectors/run.js';
import { PLAN_SOURCES } from '../insights/sql.js';

const error = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, path: { type: 'string' } },
    },
  },
};

/** The OpenAPI 3.1 document of the insights API, served at {prefix}/api/v1/openapi.json. */
export function openApiDocument(prefix: string, version: string): Record<string, unknown> {
  const query = z.toJSONSchema(querySchema, { io: 'input', unrepresentable: 'any' });
  const row = {
    type: 'object',
    required: ['time', 'value'],
    properties: {
      time: { type: 'string', description: 'bucket start in the query time zone, with its offset' },
      value: { type: ['number', 'null'] },
      baseline: { type: ['number', 'null'] },
      change: { type: ['number', 'null'], description: 'percent' },
    },
    additionalProperties: { type: ['string', 'number', 'null'], description: 'the breakdown dimension' },
  };
  const ifMatch = {
    name: 'If-Match',
    in: 'header',
    required: true,
    description: 'the revision read with GET /settings (its ETag)',
    schema: { type: 'string' },
  };
  const hostParameter = { name: 'host', in: 'path', required: true, schema: { type: 'string' } };
  const siteChange = {
    type: 'object',
    required: ['site'],
    properties: {
      site: { type: 'object', description: 'one entry of sites[] as in balise.yaml (docs/configuration.md)' },
    },
  };
  const errors = (codes: string) => ({
    description: codes,
    content: { 'application/json': { schema: error } },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'Balise insights API',
      version,
      description:
        'Series in local time with comparisons, detectors, the egress log, DLP findings and settings. Auth: Bearer token (admin.tokens holds their SHA-256) or a dashboard session (with its x-balise-csrf header on changes).',
    },
    servers: [{ url: `${prefix}/api/v1` }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { Query: query, Row: row, Error: error },
    },
    security: [{ bearer: [] }],
    paths: {
      '/series': {
        post: {
          summary: 'Run a series query (the model of docs/insights.md)',
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Query' } } },
          },
          responses: {
            200: {
              description: 'the series',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      sites: { type: 'array', items: { type: 'string' } },
                      tz: { type: 'string' },
                      metric: { type: 'string' },
                      plan: {
                        type: 'string',
                        enum: [...PLAN_SOURCES],
                        description: 'where the numbers were read (identical results either way)',
                      },
                      rows: { type: 'array', items: { $ref: '#/components/schemas/Row' } },
                    },
                  },
                },
              },
            },
            400: errors('invalid_query, range_too_large, invalid_json'),
            401: errors('unauthorized'),
            429: errors('rate_limited'),
          },
        },
      },
      '/query': {
        servers: [{ url: `${prefix}/api/v2` }],
        post: {
          summary: "Plausible's Stats API v2 query (docs/plausible.md: what is answered and how)",
          description:
            'site_id, metrics (visitors, visits, pageviews, views_per_visit, bounce_rate, visit_duration, events, conversion_rate), date_range (day, 24h, 7d, 28d, 30d, 91d, month, 6mo, 12mo, year, all, or two ISO dates), dimensions (event:page, event:goal, event:name, event:hostname, visit:entry_page, visit:exit_page, visit:source, visit:referrer, visit:utm_*, visit:device, visit:browser, visit:os, visit:country, visit:region, time, time:hour|day|week|month), filters ([is|is_not|contains|contains_not, dimension, [values]]), order_by, pagination, include.total_rows. Anything else answers 400 naming it.',
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
          responses: {
            200: {
              description: '{results: [{metrics, dimensions}], meta, query}, as Plausible answers',
            },
            400: errors('invalid_query, invalid_json'),
            401: errors('unauthorized'),
            429: errors('rate_limited'),
            503: errors('query_timeout'),
          },
        },
      },
      '/goals': {
        post: {
          summary: 'Goals, funnels and revenue of one site (docs/insights.md#goals)',
          description:
            '{site, from, to} (local dates or date-times, to excluded) or {site, last} (default 7d). Per goal: visitors, events, conversionRate; per funnel: visits reaching each step in order within a visit, dropOff, conversionRate; per currency: orders and total of Order Completed events.',
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
          responses: {
            200: { description: '{site, tz, from, to, visitors, goals, funnels, revenue}' },
            400: errors('invalid_query, range_too_large'),
            401: errors('unauthorized'),
            429: errors('rate_limited'),
          },
        },
      },
      '/detect/{detector}': {
        post: {
          summary: 'Run a detector over a query (docs/insights.md, Detectors)',
          description:
            'Detector settings travel with the query: limit, floor (spikes, dips), factor and minRps (attacks), threshold (shifts), ratio (outages). Each finding has a plain sentence in text.',
          parameters: [
            {
              name: 'detector',
              in: 'path',
              required: true,
              schema: { type: 'string', enum: [...DETECTOR_NAMES] },
            },
          ],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Query' } } },
          },
          responses: {
            200: { description: '{findings: [{text, …}], tz, sites}' },
            400: errors('invalid_query, range_too_large'),
            401: errors('unauthorized'),
            429: errors('rate_limited'),
          },
        },
      },
      '/dlp': {
        get: {
          summary:
            'Personal data found by the DLP since this gateway started, by site and kind (never values)',
          responses: {
            200: { description: '{since, findings: {site: {kind: count}}}' },
            401: errors('unauthorized'),
          },
        },
      },
      '/audit': {
        get: {
          summary: 'The CNIL analytics-proxy audit: each condition, per site and tool, with its evidence',
          description:
            'Conditions: ip_not_sent, identifier_replaced, external_referrer_removed, url_parameters_removed, fingerprinting_reworked, no_cross_site_identifier, no_other_identifying_data, eu_hosting_and_transfers. Each with `ok` and its evidence: what the configuration sets and what the egress log shows over the period (requests that left, under which policy, hosts and their region). `format=html` answers a self-contained page.',
          parameters: [
            {
              name: 'since',
              in: 'query',
              schema: { type: 'string', default: '30d', pattern: '^\\d{1,4}(h|d)$' },
            },
            { name: 'from', in: 'query', schema: { type: 'string', format: 'date' } },
            { name: 'to', in: 'query', schema: { type: 'string', format: 'date' } },
            { name: 'format', in: 'query', schema: { type: 'string', enum: ['json', 'html'] } },
          ],
          responses: {
            200: {
              description:
                '{generatedAt, period, ok, failed, conditions: [{id, title, ok, evidence: [{site, tool, ok, config, observed}]}], hosts}',
              content: {
                'application/json': { schema: { type: 'object' } },
                'text/html': { schema: { type: 'string' } },
              },
            },
            400: errors('invalid_query'),
            401: errors('unauthorized'),
            429: errors('rate_limited'),
          },
        },
      },
      '/alerts': {
        get: {
          summary: 'Alerts: the starts and ends of what the live detectors found',
          description:
            'Newest first (docs/alerts.md). Each alert: id, episode, state (start, end), detector (anomalies, attacks, shifts, outages), site, subject (the series or the path, region, node), time (UTC), at (when recorded), text, kind and score (anomalies), notified (sent, failed, rate_limited, no_channel).',
          parameters: [
            { name: 'site', in: 'query', schema: { type: 'string' } },
            {
              name: 'detector',
              in: 'query',
              schema: { type: 'string', enum: ['anomalies', 'attacks', 'shifts', 'outages'] },
            },
            { name: 'since', in: 'query', schema: { type: 'string', example: '2026-12-05T14:00Z' } },
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            },
          ],
          responses: {
            200: { description: '{ alerts: [...] }' },
            400: errors('invalid_query'),
            401: errors('unauthorized'),
            429: errors('rate_limited'),
          },
        },
      },
      '/alerts/{id}/note': {
        post: {
          summary: "An operator's note on an alert (an empty text removes it)",
          description:
            'Body {"text": "…"}: one line of at most 500 characters, kept in the alert log and shown with the alert (API, dashboard timeline). Answers the alert.',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['text'],
                  properties: { text: { type: 'string', maxLength: 500 } },
                },
              },
            },
          },
          responses: {
            200: { description: 'The alert, with its note' },
            400: errors('invalid_request'),
            401: errors('unauthorized'),
            404: errors('no_such_alert'),
          },
        },
      },
      '/egress': {
        get: {
          summary: 'The egress log: every request that left for a tool, or was stopped',
          description:
            'Newest first. Each record: time, site, tool, host, path (no query), bytes, SHA-256 of the body, the policy that allowed it, outcome (sent, retry, dead, blocked), vendor status, reason, the (first) delivery id and how many deliveries the request carried (a batch carries several).',
          parameters: [
            { name: 'site', in: 'query', schema: { type: 'string' } },
            { name: 'tool', in: 'query', schema: { type: 'string' } },
            {
              name: 'outcome',
              in: 'query',
              schema: { type: 'string', enum: ['sent', 'retry', 'dead', 'blocked'] },
            },
            {
              name: 'since',
              in: 'query',
              schema: { type: 'string', default: '24h', pattern: '^\\d{1,4}(m|h|d)$' },
            },
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 10000, default: 100 },
            },
          ],
          responses: {
            200: { description: 'records', content: { 'application/json': { schema: { type: 'object' } } } },
            400: errors('invalid_query'),
            401: errors('unauthorized'),
            429: errors('rate_limited'),
          },
        },
      },
      '/settings': {
        get: {
          summary:
            'The sites as written in the configuration file, with component manifests and privacy switches',
          description:
            'editable is false without a configuration file. Secret settings are shown as •••••••• (a ${NAME} reference as is); the ETag is the revision every change must send in If-Match.',
          responses: {
            200: { description: '{editable, file, revision, sites, components, switches}' },
            401: errors('unauthorized'),
          },
        },
      },
      '/settings/sites': {
        post: {
          summary:
            'Add a site (validated by the config schema, written atomically with a backup, applied at once)',
          parameters: [ifMatch],
          requestBody: { required: true, content: { 'application/json': { schema: siteChange } } },
          responses: {
            201: { description: '{revision, applied: true}' },
            400: errors(
              'invalid_config (error.problems lists every problem by path), invalid_tool, invalid_settings',
            ),
            401: errors('unauthorized'),
            403: errors('csrf'),
            409: errors('settings_conflict, settings_read_only, site_exists'),
            428: errors('revision_required'),
          },
        },
      },
      '/settings/sites/{host}': {
        put: {
          summary: 'Replace (or rename) the site whose host is {host}; applied at once or refused whole',
          parameters: [hostParameter, ifMatch],
          requestBody: { required: true, content: { 'application/json': { schema: siteChange } } },
          responses: {
            200: { description: '{revision, applied: true}' },
            400: errors(
              'invalid_config (error.problems lists every problem by path), invalid_tool, invalid_settings',
            ),
            401: errors('unauthorized'),
            404: errors('no_such_site'),
            409: errors('settings_conflict, settings_read_only'),
            428: errors('revision_required'),
          },
        },
        delete: {
          summary: 'Remove the site whose host is {host} (its stored events stay)',
          parameters: [hostParameter, ifMatch],
          responses: {
            200: { description: '{revision, applied: true}' },
            400: errors('invalid_config (e.g. the last site)'),
            401: errors('unauthorized'),
            404: errors('no_such_site'),
            409: errors('settings_conflict, settings_read_only'),
            428: errors('revision_required'),
          },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', security: [], responses: { 200: { description: 'OpenAPI 3.1' } } },
      },
    },
  };
}
