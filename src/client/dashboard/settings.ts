import { api, ApiError, type Problem } from './api.js';
import { alertLine, el, grid, number, table } from './dom.js';

type Raw = Record<string, unknown>;

interface SettingInfo {
  required: boolean;
  secret: boolean;
  description?: string;
}
interface ComponentInfo {
  description: string | null;
  sunset: string | null;
  hosts: string[];
  settings: Record<string, SettingInfo>;
}
interface SwitchInfo {
  key: string;
  values: string[];
  default: string;
  explanation: string;
}
interface SettingsView {
  editable: boolean;
  file: string | null;
  revision: string | null;
  sites: Raw[];
  components: Record<string, ComponentInfo>;
  switches: SwitchInfo[];
}

const isRecord = (value: unknown): value is Raw =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const list = (text: string) =>
  text
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
/** A scalar from the file as text ('' for anything else: objects are never shown as [object Object]). */
const text = (value: unknown, fallback = ''): string =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : fallback;
const asList = (value: unknown) => (Array.isArray(value) ? value.map(String).join(', ') : '');

let uid = 0;
/** A form row: the control with a page-unique id, its label, and its help line (aria-describedby). */
function labelled<T extends HTMLElement>(
  label: string,
  control: T,
  help?: string,
): { row: HTMLElement; control: T } {
  const id = `f${++uid}`;
  control.id = id;
  if (help) control.setAttribute('aria-describedby', `${id}-help`);
  const row = el(
    'div',
    { class: 'field' },
    el('label', { for: id }, label),
    control,
    ...(help ? [el('p', { class: 'help', id: `${id}-help` }, help)] : []),
  );
  return { row, control };
}

/** A labelled input. */
function field(
  label: string,
  value: string,
  attributes: Record<string, string> = {},
  help?: string,
): { row: HTMLElement; input: HTMLInputElement } {
  const { row, control } = labelled(label, el('input', { value, ...attributes }), help);
  return { row, input: control };
}

/** A labelled select; `values` as [value, text]. */
function choice(
  label: string,
  values: [string, string][],
  value: string,
  help?: string,
): { row: HTMLElement; select: HTMLSelectElement } {
  const select = el('select');
  for (const [v, text] of values) select.append(el('option', { value: v }, text));
  select.value = value;
  const { row } = labelled(label, select, help);
  return { row, select };
}

/** The form of one tool: id, component, purpose, region, extra hosts and its manifest's settings. */
function toolForm(
  tool: Raw,
  view: SettingsView,
  purposes: () => string[],
  remove: () => void,
): { node: HTMLElement; value: () => Raw } {
  const component = text(tool.component, '');
  const info = view.components[component];
  const id = field('Tool id', text(tool.id, ''), { required: '', pattern: '[a-z0-9][a-z0-9_-]{0,63}' });
  const purpose = choice(
    'Consent purpose',
    [['', 'None (no consent needed)'], ...purposes().map((p): [string, string] => [p, p])],
    text(tool.purpose, ''),
  );
  const region = choice(
    'Region',
    [
      ['eu', 'eu — EU endpoints only'],
      ['any', 'any'],
    ],
    text(tool.region, 'eu'),
  );
  const hosts = field(
    'Extra hosts (comma-separated)',
    asList(tool.allowHosts),
    {},
    'Hosts this tool may send to besides its manifest (needed for private addresses).',
  );
  const privacy = isRecord(tool.privacy) ? tool.privacy : {};
  const KEPT = '(as written)';
  const toolSwitches = [
    ...view.switches
      .filter((sw) => ['query', 'ip', 'userAgent', 'referrer', 'dlp'].includes(sw.key))
      .map((sw) => ({ key: sw.key, values: sw.values.filter((v) => v !== 'allow') })),
    { key: 'clientId', values: ['hashed', 'keep', 'constant'] },
  ].map(({ key, values }) => {
    const raw = privacy[key];
    const current =
      raw === undefined
        ? ''
        : key === 'clientId' && isRecord(raw) && typeof raw.constant === 'string'
          ? 'constant'
          : isRecord(raw)
            ? KEPT
            : text(raw);
    const control = choice(
      `${key} for this tool`,
      [
        ['', key === 'clientId' ? 'hashed (default)' : 'the site’s'],
        ...(current === KEPT ? [[KEPT, `${JSON.stringify(raw)} (as written)`] as [string, string]] : []),
        ...values.map((v): [string, string] => [v, v]),
      ],
      current,
    );
    control.select.setAttribute('data-tool-switch', key);
    return { key, ...control };
  });
  const clientIdRaw = privacy.clientId;
  const constant = field(
    'Constant client id (with clientId: constant)',
    isRecord(clientIdRaw) ? text(clientIdRaw.constant) : '',
    { maxlength: '64' },
    'Every visitor gets this id: the tool counts events, never visitors.',
  );
  const settings = isRecord(tool.settings) ? tool.settings : {};
  const inputs: [string, HTMLInputElement][] = [];
  const settingRows: HTMLElement[] = [];
  const known = info ? Object.entries(info.settings) : [];
  for (const [key, s] of known) {
    const { row, input } = field(
      `${key}${s.required ? ' (required)' : ''}`,
      text(settings[key]),
      {
        type: s.secret ? 'password' : 'text',
        autocomplete: s.secret ? 'new-password' : 'off',
        'data-setting': key,
        ...(s.required ? { required: '' } : {}),
      },
      s.description,
    );
    inputs.push([key, input]);
    settingRows.push(row);
  }
  const removeButton = el('button', { type: 'button', class: 'secondary' }, 'Remove this tool');
  removeButton.addEventListener('click', remove);
  const node = el(
    'fieldset',
    { class: 'tool', 'data-tool': text(tool.id, '') },
    el('legend', {}, `Tool: ${component}`),
    ...(info?.description ? [el('p', { class: 'help' }, info.description)] : []),
    ...(info?.sunset ? [el('p', { class: 'error' }, `Legacy: ${info.sunset}`)] : []),
    ...(info?.hosts.length ? [el('p', { class: 'help' }, `Sends to: ${info.hosts.join(', ')}`)] : []),
    id.row,
    purpose.row,
    region.row,
    hosts.row,
    ...settingRows,
    el(
      'details',
      {},
      el('summary', {}, 'Privacy for this tool (only ever stricter than the site’s)'),
      ...toolSwitches.map((sw) => sw.row),
      constant.row,
    ),
    removeButton,
  );
  return {
    node,
    value: () => {
      const next: Raw = { ...tool, id: id.input.value.trim(), component };
      if (purpose.select.value) next.purpose = purpose.select.value;
      else delete next.purpose;
      next.region = region.select.value;
      const extra = list(hosts.input.value);
      if (extra.length) next.allowHosts = extra;
      else delete next.allowHosts;
      const values: Raw = { ...settings };
      for (const [key, input] of inputs) {
        if (input.value === '') delete values[key];
        else values[key] = input.value;
      }
      next.settings = values;
      const nextPrivacy: Raw = { ...privacy };
      for (const sw of toolSwitches) {
        if (sw.select.value === KEPT) continue;
        if (sw.select.value === '') delete nextPrivacy[sw.key];
        else if (sw.select.value === 'constant') nextPrivacy[sw.key] = { constant: constant.input.value };
        else nextPrivacy[sw.key] = sw.select.value;
      }
      if (Object.keys(nextPrivacy).length) next.privacy = nextPrivacy;
      else delete next.privacy;
      return next;
    },
  };
}

/** The form of a site: names, zone, group, privacy switches, consent purposes and tools. */
function siteForm(
  site: Raw,
  isNew: boolean,
  view: SettingsView,
  done: (message: string) => void,
): HTMLElement {
  const privacy = isRecord(site.privacy) ? site.privacy : {};
  const consent = isRecord(site.consent) ? site.consent : {};
  const host = field('Host name', text(site.host, ''), { required: '' }, 'e.g. www.example.fr');
  const aliases = field('Other host names (comma-separated)', asList(site.aliases));
  const timezone = field(
    'Time zone',
    text(site.timezone, ''),
    { placeholder: 'Europe/Paris' },
    'IANA zone for local-time insights and the daily salt; empty: Europe/Paris.',
  );
  const group = field('Group', text(site.group, ''), {}, 'Group of sites, e.g. news or tv.');
  const switches = view.switches.map((s) => {
    const raw = privacy[s.key];
    const current = isRecord(raw) && Array.isArray(raw.allow) ? 'allow' : text(raw);
    const values: [string, string][] = [
      ['', s.key === 'profile' ? `default (${s.default})` : `profile’s (${s.default} under cnil-proxy)`],
      ...s.values.map((v): [string, string] => [v, v]),
    ];
    const control = choice(`privacy.${s.key}`, values, current, s.explanation);
    control.select.setAttribute('data-switch', s.key);
    return { info: s, ...control };
  });
  const rawQuery = privacy.query;
  const allow = field(
    'Query parameters to keep (with query: allow)',
    isRecord(rawQuery) ? asList(rawQuery.allow) : '',
    {},
    'Only these names are kept, e.g. q, page.',
  );
  const purposes = field(
    'Consent purposes (comma-separated)',
    asList(consent.purposes),
    {},
    'e.g. analytics, marketing; a tool with a purpose gets events only with that consent.',
  );
  const tools: { node: HTMLElement; value: () => Raw }[] = [];
  const toolBox = el('div', { class: 'tools' });
  const addTool = (tool: Raw) => {
    const form = toolForm(
      tool,
      view,
      () => list(purposes.input.value),
      () => {
        tools.splice(tools.indexOf(form), 1);
        form.node.remove();
      },
    );
    tools.push(form);
    toolBox.append(form.node);
  };
  for (const tool of Array.isArray(site.tools) ? site.tools : []) if (isRecord(tool)) addTool(tool);
  const newComponent = choice(
    'Component',
    Object.keys(view.components).map((name): [string, string] => [name, name]),
    Object.keys(view.components)[0] ?? '',
  );
  const addButton = el('button', { type: 'button', class: 'secondary' }, 'Add tool');
  addButton.addEventListener('click', () => {
    const component = newComponent.select.value;
    const taken = new Set(tools.map((t) => text(t.value().id)));
    let id = component;
    for (let i = 2; taken.has(id); i++) id = `${component}${i}`;
    addTool({ id, component, settings: {} });
  });

  const errors = el('div', { 'aria-live': 'assertive' });
  const save = el('button', { type: 'submit' }, isNew ? 'Add site' : 'Save and apply');
  const value = (): Raw => {
    const next: Raw = { ...site, host: host.input.value.trim() };
    const names = list(aliases.input.value);
    if (names.length) next.aliases = names;
    else delete next.aliases;
    if (timezone.input.value.trim()) next.timezone = timezone.input.value.trim();
    else delete next.timezone;
    if (group.input.value.trim()) next.group = group.input.value.trim();
    else delete next.group;
    const nextPrivacy: Raw = { ...privacy };
    for (const s of switches) {
      const v = s.select.value;
      if (v === '') delete nextPrivacy[s.info.key];
      else if (v === 'allow') nextPrivacy[s.info.key] = { allow: list(allow.input.value) };
      else nextPrivacy[s.info.key] = v;
    }
    if (Object.keys(nextPrivacy).length) next.privacy = nextPrivacy;
    else delete next.privacy;
    const nextPurposes = list(purposes.input.value);
    if (nextPurposes.length) next.consent = { ...consent, purposes: nextPurposes };
    else delete next.consent;
    if (tools.length) next.tools = tools.map((t) => t.value());
    else delete next.tools;
    return next;
  };
  const form = el(
    'form',
    { class: 'site-form', novalidate: '' },
    el('h2', {}, isNew ? 'New site' : `Site ${text(site.host)}`),
    el('fieldset', {}, el('legend', {}, 'Site'), host.row, aliases.row, timezone.row, group.row),
    el('fieldset', {}, el('legend', {}, 'Privacy switches'), ...switches.map((s) => s.row), allow.row),
    el('fieldset', {}, el('legend', {}, 'Consent'), purposes.row),
    el(
      'fieldset',
      {},
      el('legend', {}, 'Tools'),
      toolBox,
      el('div', { class: 'bar' }, newComponent.row, addButton),
    ),
    errors,
    el('div', { class: 'bar' }, save),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    save.disabled = true;
    const body = { site: value() };
    const call = isNew
      ? api<{ revision: string }>('/api/v1/settings/sites', body, { ifMatch: view.revision! })
      : api<{ revision: string }>(`/api/v1/settings/sites/${encodeURIComponent(text(site.host))}`, body, {
          method: 'PUT',
          ifMatch: view.revision!,
        });
    call.then(
      () => done(`Saved and applied: ${text(body.site.host)}.`),
      (error: unknown) => {
        save.disabled = false;
        errors.replaceChildren(problemList(error));
      },
    );
  });
  if (!isNew) {
    const remove = el('button', { type: 'button', class: 'danger' }, 'Remove this site');
    let armed = false;
    remove.addEventListener('click', () => {
      if (!armed) {
        armed = true;
        remove.textContent = `Click again to remove ${text(site.host)}`;
        return;
      }
      api(`/api/v1/settings/sites/${encodeURIComponent(text(site.host))}`, undefined, {
        method: 'DELETE',
        ifMatch: view.revision!,
      }).then(
        () => done(`Removed ${text(site.host)}.`),
        (error: unknown) => errors.replaceChildren(problemList(error)),
      );
    });
    form.append(remove);
  }
  return form;
}

/** A refused change as an alert: the message and each problem with its path. */
function problemList(error: unknown): HTMLElement {
  const box = el('div', { class: 'problems', role: 'alert' });
  box.append(el('p', { class: 'error' }, error instanceof Error ? error.message : String(error)));
  const problems: Problem[] = error instanceof ApiError ? error.problems : [];
  if (problems.length)
    box.append(el('ul', {}, ...problems.map((p) => el('li', {}, `${p.path || '(top)'}: ${p.message}`))));
  return box;
}

/** What left for the tools (egress log) and personal data found, by kind. */
async function privacyReport(): Promise<HTMLElement[]> {
  const [egress, dlp] = await Promise.all([
    api<{ records: Record<string, string | number | null>[] }>('/api/v1/egress?since=7d&limit=50'),
    api<{ since: string; findings: Record<string, Record<string, number>> }>('/api/v1/dlp'),
  ]);
  const dlpRows: { key: string; value: number }[] = [];
  for (const [site, kinds] of Object.entries(dlp.findings))
    for (const [kind, count] of Object.entries(kinds))
      dlpRows.push({ key: `${site} — ${kind}`, value: count });
  return [
    el(
      'section',
      {},
      el('h2', {}, 'What left for the tools (egress log, 7 days)'),
      egress.records.length
        ? grid(
            ['Time (UTC)', 'Site', 'Tool', 'Host', 'Path', 'Bytes', 'Outcome', 'Status', 'Allowed by'],
            egress.records.map((r) => [
              r.time ?? null,
              r.site ?? null,
              r.tool ?? null,
              r.host ?? null,
              r.path ?? null,
              typeof r.bytes === 'number' ? number(r.bytes) : null,
              r.outcome ?? null,
              r.status ?? null,
              r.policy ?? r.reason ?? null,
            ]),
          )
        : el('p', { class: 'muted' }, 'Nothing left for a tool in the last 7 days.'),
    ),
    dlpRows.length
      ? table(
          `Personal data found since ${dlp.since} (by kind; values are never kept)`,
          'Site — kind',
          dlpRows,
        )
      : el(
          'section',
          {},
          el('h2', {}, 'Personal data found'),
          el('p', { class: 'muted' }, `None since ${dlp.since}.`),
        ),
  ];
}

/**
 * Settings: the sites with their privacy switches (each with its one-line explanation), consent
 * purposes and tools (forms from each component's manifest), saved through the settings API —
 * validated by the config schema, written with a backup, applied without a restart — then what
 * left for the tools and the personal data found.
 */
export async function renderSettings(target: HTMLElement, notice = ''): Promise<void> {
  const view = await api<SettingsView>('/api/v1/settings');
  const report = await privacyReport();
  const rerender = (message: string) => void renderSettings(target, message);
  const editor = el('div', { id: 'site-editor' });
  const open = (site: Raw, isNew: boolean) => {
    editor.replaceChildren(siteForm(site, isNew, view, rerender));
    editor.querySelector('input')?.focus();
  };
  const body = el('tbody');
  for (const site of view.sites) {
    const privacy = isRecord(site.privacy) ? site.privacy : {};
    const edit = el('button', { type: 'button', class: 'secondary' }, `Edit ${text(site.host)}`);
    edit.addEventListener('click', () => open(site, false));
    body.append(
      el(
        'tr',
        {},
        el('td', {}, text(site.host)),
        el('td', {}, text(site.group, '—')),
        el('td', {}, text(privacy.profile, 'cnil-proxy')),
        el(
          'td',
          {},
          Array.isArray(site.tools) ? site.tools.map((t) => text((t as Raw).id)).join(', ') || '—' : '—',
        ),
        el('td', {}, edit),
      ),
    );
  }
  const add = el('button', { type: 'button' }, 'Add a site');
  add.addEventListener('click', () => open({ host: '' }, true));
  if (!view.editable) add.disabled = true;
  target.replaceChildren(
    ...(notice ? [el('p', { class: 'notice', role: 'status' }, notice)] : []),
    view.editable
      ? el(
          'p',
          { class: 'muted' },
          `Changes are checked like the file at start, written to ${view.file} (the previous version kept as a backup beside it) and applied at once. Server, store and admin settings are edited in the file and need a restart.`,
        )
      : alertLine(
          'Read-only: this gateway was started without a configuration file (balise serve --config FILE).',
        ),
    el(
      'table',
      {},
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ...['Site', 'Group', 'Privacy profile', 'Tools', 'Change'].map((h) =>
            el('th', { scope: 'col' }, h),
          ),
        ),
      ),
      body,
    ),
    el('div', { class: 'bar' }, add),
    editor,
    ...report,
  );
  if (!view.editable)
    target.querySelectorAll('tbody button').forEach((button) => {
      (button as HTMLButtonElement).disabled = true;
    });
}
