import type { SettingsView, ToolStatus } from '../../settings/view.js';
import { el } from './dom.js';
import { asList, choice, field, isRecord, jsonField, list, text, type Raw } from './form.js';

/** The form of one tool: id, component, purpose, region, extra hosts and its manifest's settings. */
export function toolForm(
  tool: Raw,
  view: SettingsView,
  purposes: () => string[],
  remove: () => void,
  status?: ToolStatus,
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
  const actions = jsonField(
    'Actions (JSON)',
    tool.actions,
    { 'data-tool-actions': '' },
    'e.g. [{"trigger": "signups", "event": "Lead", "map": {"value": "total"}, "fields": {"currency": "EUR"}}]; empty: every consented event.',
  );
  const blocking = field(
    'Blocking triggers (comma-separated)',
    asList(tool.blockingTriggers),
    { 'data-tool-blocking': '' },
    'Triggers whose events this tool never receives.',
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
    ...(status ? [statusLine(status)] : []),
    id.row,
    purpose.row,
    region.row,
    hosts.row,
    ...settingRows,
    actions.row,
    blocking.row,
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
      const nextActions = actions.read();
      if (nextActions === undefined) delete next.actions;
      else next.actions = nextActions;
      const nextBlocking = list(blocking.input.value);
      if (nextBlocking.length) next.blockingTriggers = nextBlocking;
      else delete next.blockingTriggers;
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

/** How the running tool fares: stopped (with why), or its counters since the gateway started. */
function statusLine(status: ToolStatus): HTMLElement {
  if (status.disabled)
    return el(
      'p',
      { class: 'error', role: 'status', 'data-tool-status': 'disabled' },
      `Stopped: it ${status.disabled}. Save or restart to start it again.`,
    );
  return el(
    'p',
    { class: 'help', 'data-tool-status': 'running' },
    `Running: ${status.events} events, ${status.deliveries} requests, ${status.errors} errors, ${status.permissionDenied} calls refused (since the gateway started).`,
  );
}
