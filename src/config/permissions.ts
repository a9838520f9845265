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
