import { z } from 'zod';

import { PERMISSIONS } from '../config/permissions.js';

export { PERMISSIONS } from '../config/permissions.js';

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

/** The permissions Cloudflare's manifests declare that grant nothing (Zaraz's `provide_*` labels). */
const PROVIDES = /^provide_(?!server_functionality$)[a-z_]+$/;

/** A manifest as a manifest.json gives it, made Balise's: what is required, what was set aside. */
export interface ReadManifest {
  manifest: Manifest;
  /** Permissions the manifest marks `required` (a tool without them cannot start). */
  required: Permission[];
  /** Declarations that grant nothing in Balise (Zaraz's `provide_*`), named for `config check`. */
  ignored: string[];
}

const cloudflareManifest = z.looseObject({
  name: z.string().min(1),
  namespace: z.string().optional(),
  description: z.string().optional(),
  permissions: z
    .record(
      z.string(),
      z.looseObject({ required: z.boolean().optional(), description: z.string().optional() }),
    )
    .default({}),
});

/**
 * Reads a manifest: Balise's shape (`permissions` as a list, `hosts`, `settings`, `batch`), or the
 * shape of Cloudflare's published components (`permissions` as an object of `{required,
 * description}`, a `namespace`, no hosts). A Cloudflare permission outside the Managed Components
 * list is refused, except Zaraz's `provide_*` labels, which grant nothing and are set aside.
 * Throws an Error naming the first problem.
 */
export function readManifest(json: unknown): ReadManifest {
  const permissions = (json as { permissions?: unknown } | null)?.permissions;
  if (permissions === undefined || Array.isArray(permissions)) {
    const parsed = manifestSchema.safeParse(json);
    if (!parsed.success) throw new Error(problemOf(parsed.error));
    return { manifest: parsed.data, required: [], ignored: [] };
  }
  const parsed = cloudflareManifest.safeParse(json);
  if (!parsed.success) throw new Error(problemOf(parsed.error));
  const declared: Permission[] = [];
  const required: Permission[] = [];
  const ignored: string[] = [];
  for (const [name, spec] of Object.entries(parsed.data.permissions)) {
    if ((PERMISSIONS as readonly string[]).includes(name)) {
      declared.push(name as Permission);
      if (spec.required) required.push(name as Permission);
    } else if (PROVIDES.test(name)) ignored.push(name);
    else
      throw new Error(`permissions.${name}: not a Managed Components permission (${PERMISSIONS.join(', ')})`);
  }
  return {
    manifest: {
      name: parsed.data.name.slice(0, 64),
      ...(parsed.data.description ? { description: parsed.data.description.slice(0, 500) } : {}),
      permissions: declared,
      hosts: [],
      settings: {},
    },
    required,
    ignored,
  };
}

function problemOf(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || '(root)'}: ${issue.message}`;
}
