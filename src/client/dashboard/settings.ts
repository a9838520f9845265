import { api, ApiError, type Problem } from './api.js';
import { alertLine, el, grid, number, table } from './dom.js';
import type { SettingsView } from '../../settings/view.js';
import { asList, choice, field, FormError, isRecord, jsonField, list, text, type Raw } from './form.js';
import { toolForm } from './tool-form.js';

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
  const debugKey = field(
    'Debug key',
    text(site.debugKey, ''),
    { 'data-debug-key': '', pattern: '[A-Za-z0-9_-]{16,128}', autocomplete: 'off' },
    'In the browser console of your site, balise.debug("this key") shows what each tool received and sent for your own visit; a new key revokes the old one.',
  );
  const newKey = el('button', { type: 'button', class: 'secondary' }, 'New debug key');
  newKey.addEventListener('click', () => {
    const bytes = crypto.getRandomValues(new Uint8Array(18));
    debugKey.input.value = btoa(String.fromCharCode(...bytes))
      .replace(/\+/g, '-')
      .replace(/\//g, '_');
  });
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
  const triggers = jsonField(
    'Triggers (JSON)',
    site.triggers,
    { 'data-site-triggers': '' },
    'e.g. [{"id": "signups", "match": {"type": "track", "name": "signup"}}]; rules: type, name, path (* patterns), props.',
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
      view.toolStatus?.[`${text(site.host)}/${text(tool.id)}`],
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
    if (debugKey.input.value.trim()) next.debugKey = debugKey.input.value.trim();
    else delete next.debugKey;
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
    const nextTriggers = triggers.read();
    if (nextTriggers === undefined) delete next.triggers;
    else next.triggers = nextTriggers;
    if (tools.length) next.tools = tools.map((t) => t.value());
    else delete next.tools;
    return next;
  };
  const form = el(
    'form',
    { class: 'site-form', novalidate: '' },
    el('h2', {}, isNew ? 'New site' : `Site ${text(site.host)}`),
    el(
      'fieldset',
      {},
      el('legend', {}, 'Site'),
      host.row,
      aliases.row,
      timezone.row,
      group.row,
      debugKey.row,
      el('div', { class: 'bar' }, newKey),
    ),
    el('fieldset', {}, el('legend', {}, 'Privacy switches'), ...switches.map((s) => s.row), allow.row),
    el('fieldset', {}, el('legend', {}, 'Consent'), purposes.row),
    el(
      'fieldset',
      {},
      el('legend', {}, 'Tools'),
      triggers.row,
      toolBox,
      el('div', { class: 'bar' }, newComponent.row, addButton),
    ),
    errors,
    el('div', { class: 'bar' }, save),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    let body: { site: Raw };
    try {
      body = { site: value() };
    } catch (error) {
      if (!(error instanceof FormError)) throw error;
      errors.replaceChildren(el('div', { class: 'problems', role: 'alert' }, error.message));
      return;
    }
    save.disabled = true;
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
