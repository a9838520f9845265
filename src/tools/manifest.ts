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
  sunset: z.string().max(300).optional().describe('Set on legacy components: why and when they stop working'),
});

/** A validated manifest. */
export type Manifest = z.output<typeof manifestSchema>;
