/**
 * The environment of a child process of this one: `defaults` under this process's environment
 * (a variable the user set keeps its value). The one place outside config loading that reads
 * the environment, so that what a child gets is decided here.
 */
export function childEnv(defaults: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  return { ...defaults, ...process.env };
}
