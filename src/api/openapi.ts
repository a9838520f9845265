import { z } from 'zod';
import { querySchema } from '../insights/model.js';

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
        'Series in local time with comparisons. Auth: Bearer token (admin.tokens holds their SHA-256).',
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
                        enum: ['rollup', 'raw'],
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
      '/egress': {
        get: {
          summary: 'The egress log: every request that left for a tool, or was stopped',
          description:
            'Newest first. Each record: time, site, tool, host, path (no query), bytes, SHA-256 of the body, the policy that allowed it, outcome (sent, retry, dead, blocked), vendor status, reason.',
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
      '/openapi.json': {
        get: { summary: 'This document', security: [], responses: { 200: { description: 'OpenAPI 3.1' } } },
      },
    },
  };
}
