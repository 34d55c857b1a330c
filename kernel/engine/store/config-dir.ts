// The user's Berth configuration: contexts, job records, certs.d and
// registries.yaml. BERTH_CONFIG moves it; else XDG_CONFIG_HOME/berth or
// ~/.config/berth, per user (rootless users each have their own).
import * as os from 'os';
import * as path from 'path';

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BERTH_CONFIG) return path.resolve(env.BERTH_CONFIG);
  return path.join(env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config'), 'berth');
}
