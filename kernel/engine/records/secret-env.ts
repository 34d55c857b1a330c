// Which environment values are secrets, and how they are shown. A
// notebook's saved outputs go into git and get shared, so a rendered
// record or an inspect in a notebook shows `NAME=***` for values that came
// from --env-file and for names that look secret. The container still
// gets every value; only what is shown changes.
const SECRET_NAME = /PASSWORD|PASSWD|TOKEN|SECRET|KEY|CREDENTIAL/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

// fromFile: the names whose values came from --env-file.
export function maskEnv(env: string[], fromFile: string[] = []): string[] {
  const hidden = new Set(fromFile);
  return env.map((e) => {
    const eq = e.indexOf('=');
    if (eq < 0) return e;
    const name = e.slice(0, eq);
    return hidden.has(name) || isSecretName(name) ? `${name}=***` : e;
  });
}
