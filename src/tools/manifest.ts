import { z } from 'zod';

/** The Managed Components permissions (the closed enum of `@managed-components/types`). */
export const PERMISSIONS = [
  'access_client_kv',
  'access_extended_client_kv',
  'execute_unsafe_scripts',
  'client_network_requests',
  'serve_static_files',
  'provide_server_functionality',
  'server_network_requests',
] as const;

/** One Managed Components permission. */
export type Permission = (typeof PERMISSIONS)[number];

/** What a component declares: its permissions and the hosts it may send to (EU endpoints marked). */
export const manifestSchema = z.strictObject({
  name: z.string().min(1).max(64),
  description: z.string().max(500).optional(),
  permissions: z.array(z.enum(PERMISSIONS)).default([]),
  hosts: z
    .array(z.strictObject({ host: z.string().min(1), eu: z.boolean().default(false) }))
    .default([])
    .describe('Hosts the component may send to; `eu: true` marks an EU endpoint'),
  settings: z
    .record(
      z.string(),
      z.strictObject({
        required: z.boolean().default(false),
        secret: z.boolean().default(false),
        description: z.string().max(300).optional(),
      }),
    )
    .default({})
    .describe('Settings the component reads, for validation and the dashboard'),
  batch: z
    .strictObject({
      field: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a JSON key such as events'),
      max: z.number().int().min(2).max(10_000),
      maxBytes: z.number().int().min(1024).optional(),
      vary: z.array(z.string().regex(/^[a-z0-9-]+$/, 'must be a lower-case header name')).default([]),
    })
    .optional()
    .describe(
      'Balise extension: requests whose JSON bodies differ only in the array `field` may be sent as one, up to `max` items (and `maxBytes`); `vary` names headers the component re-makes for each request it sends (its exported `seal`)',
    ),
  sunset: z.string().max(300).optional().describe('Set on legacy components: why and when they stop working'),
});

/** A validated manifest. */
export type Manifest = z.output<typeof manifestSchema>;
