import { describe, expect, it } from 'vitest';
import { readManifest } from './manifest.js';

describe('manifests', () => {
  it('reads Cloudflare’s shape: permissions as an object, required ones, provide_* set aside, a scoped namespace', () => {
    const read = readManifest({
      name: '@managed-components/pinterest-conversion-api',
      namespace: '@managed-components/pinterest-conversion-api',
      description: 'pinterest capi mc',
      icon: 'assets/pinterest.svg',
      categories: ['Advertising'],
      permissions: {
        provide_ecommerce: { description: 'ecommerce', required: true },
        provide_pageviews: { description: 'pageviews', required: true },
        server_network_requests: { description: 'API', required: true },
        access_client_kv: { description: '', required: false },
      },
    });
    expect(read.manifest).toEqual({
      name: '@managed-components/pinterest-conversion-api',
      description: 'pinterest capi mc',
      permissions: ['server_network_requests', 'access_client_kv'],
      hosts: [],
      settings: {},
    });
    expect(read.required).toEqual(['server_network_requests']);
    expect(read.ignored).toEqual(['provide_ecommerce', 'provide_pageviews']);
  });

  it('refuses a permission outside the Managed Components list, naming it', () => {
    expect(() => readManifest({ name: 'x', permissions: { read_files: { required: true } } })).toThrow(
      /permissions\.read_files: not a Managed Components permission/,
    );
    expect(() => readManifest({ name: 'x', permissions: ['read_files'] })).toThrow(/permissions\.0/);
  });

  it('reads Balise’s shape as it is (hosts, settings, batch), nothing required', () => {
    const read = readManifest({
      name: 'hook',
      permissions: ['server_network_requests'],
      hosts: [{ host: 'hooks.example.fr', eu: true }],
      settings: { url: { required: true } },
    });
    expect(read.manifest.hosts).toEqual([{ host: 'hooks.example.fr', eu: true }]);
    expect(read.manifest.settings.url).toMatchObject({ required: true, secret: false });
    expect(read.required).toEqual([]);
  });
});
