import { z } from 'zod';

const id = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a short lower-case name such as signups');

/**
 * A value a rule compares with: text (`*` matches any run of characters), a number, a boolean, or
 * a numeric range (`{gt: 100}`, `{gte: 1, lt: 10}`).
 */
const ruleValue = z.union([
  z.string().max(200),
  z.number(),
  z.boolean(),
  z
    .strictObject({
      gt: z.number().optional(),
      gte: z.number().optional(),
      lt: z.number().optional(),
      lte: z.number().optional(),
    })
    .refine((range) => Object.values(range).some((bound) => bound !== undefined), {
      message: 'give gt, gte, lt or lte',
    }),
]);

/** What a trigger matches; every rule given must hold (AND). */
export const matchSchema = z
  .strictObject({
    type: z
      .enum(['pageview', 'track', 'ecommerce', 'request'])
      .optional()
      .describe('The kind of event: pageview, track (zaraz.track / balise.track), ecommerce or request'),
    name: z.string().min(1).max(200).optional().describe('The event name; * matches any run of characters'),
    path: z
      .string()
      .regex(/^\//, 'must start with /, e.g. /checkout/*')
      .max(1024)
      .optional()
      .describe('The page path (no query); * matches any run of characters'),
    props: z
      .record(z.string().min(1).max(100), ruleValue)
      .optional()
      .describe('Event properties and the value each must have (text patterns with *)'),
  })
  .refine((match) => Object.values(match).some((rule) => rule !== undefined), {
    message: 'give at least one rule (type, name, path or props)',
  });

/** A named trigger of a site: which events it matches (Zaraz's match rules). */
export const triggerSchema = z.strictObject({
  id: id.describe('Name of the trigger, used by tools[].actions and blockingTriggers'),
  match: matchSchema,
  exclude: matchSchema
    .optional()
    .describe('Events that match these rules too are not matched (Zaraz’s exclude rules)'),
});

/** A source of a mapped field: an event property (dotted path) or one of the event's own values. */
const source = z
  .string()
  .regex(
    /^(\$(name|type|path|url|title)|[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*)$/,
    'must be an event property (e.g. total or order.id) or one of $name, $type, $path, $url, $title',
  );

/** What a tool does when a trigger fires (Zaraz's actions). */
export const actionSchema = z.strictObject({
  trigger: z
    .union([id, z.array(id).min(1).max(20)])
    .describe('The site trigger (or triggers: any of them) that fires this action'),
  blockingTriggers: z
    .array(id)
    .max(20)
    .default([])
    .describe('Triggers that stop this action (not the tool’s others)'),
  event: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'must be an event type name such as event or ViewContent')
    .optional()
    .describe('The event type the component receives (any name it listens to); default: the event’s own'),
  map: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/), source)
    .default({})
    .describe('Fields the component receives, each taken from an event property or value'),
  fields: z
    .record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/),
      z.union([z.string().max(2000), z.number(), z.boolean()]),
    )
    .default({})
    .describe('Fixed fields the component receives (they win over the event’s properties)'),
});

/** Problems of a site's triggers and of its tools' actions: unknown or repeated trigger names. */
export function triggerProblems(site: {
  triggers: { id: string }[];
  tools: {
    actions?: { trigger: string | string[]; blockingTriggers: string[] }[] | undefined;
    blockingTriggers: string[];
  }[];
}): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const ids = new Set<string>();
  site.triggers.forEach((trigger, index) => {
    if (ids.has(trigger.id))
      problems.push({ path: ['triggers', index, 'id'], message: `trigger ${trigger.id} is named twice` });
    ids.add(trigger.id);
  });
  const known = [...ids].join(', ') || 'none';
  site.tools.forEach((tool, toolIndex) => {
    (tool.actions ?? []).forEach((action, actionIndex) => {
      const path = ['tools', toolIndex, 'actions', actionIndex];
      const firing = typeof action.trigger === 'string' ? [action.trigger] : action.trigger;
      firing.forEach((name, index) => {
        if (!ids.has(name))
          problems.push({
            path: [...path, 'trigger', ...(typeof action.trigger === 'string' ? [] : [index])],
            message: `trigger ${name} is not in this site's triggers (${known})`,
          });
      });
      action.blockingTriggers.forEach((name, index) => {
        if (!ids.has(name))
          problems.push({
            path: [...path, 'blockingTriggers', index],
            message: `trigger ${name} is not in this site's triggers (${known})`,
          });
      });
    });
    tool.blockingTriggers.forEach((name, index) => {
      if (!ids.has(name))
        problems.push({
          path: ['tools', toolIndex, 'blockingTriggers', index],
          message: `trigger ${name} is not in this site's triggers (${known})`,
        });
    });
  });
  return problems;
}
