// `berth install`: writes the kernelspec (install.json filled in) where
// `jupyter kernelspec list` looks, and `berth kernel -f FILE` starts it.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BerthError } from '../engine';

const repoRoot = path.resolve(__dirname, '..', '..', '..');

function kernelsDir(args: string[]): string {
  if (args.includes('--user')) return path.join(os.homedir(), '.local', 'share', 'jupyter', 'kernels');
  const prefixAt = args.indexOf('--prefix');
  if (prefixAt >= 0) {
    const dir = args[prefixAt + 1];
    if (!dir) throw new BerthError('--prefix needs a directory: berth install --prefix DIR');
    return path.join(path.resolve(dir), 'share', 'jupyter', 'kernels');
  }
  if (args.includes('--sys-prefix')) {
    let prefix: string;
    try {
      prefix = execFileSync('python3', ['-c', 'import sys; print(sys.prefix)'], { encoding: 'utf8' }).trim();
    } catch {
      throw new BerthError('--sys-prefix asks python3 for its prefix, and python3 did not answer; use --user or --prefix DIR');
    }
    return path.join(prefix, 'share', 'jupyter', 'kernels');
  }
  // As `jupyter kernelspec install`: a user who is not root installs for themselves.
  return process.getuid?.() === 0 ? '/usr/local/share/jupyter/kernels' : path.join(os.homedir(), '.local', 'share', 'jupyter', 'kernels');
}

export function install(args: string[]): string {
  const unknown = args.filter((a, i) => a.startsWith('-') && !['--user', '--sys-prefix', '--prefix'].includes(a) && args[i - 1] !== '--prefix');
  if (unknown.length) throw new BerthError(`unknown flag: ${unknown[0]}\nUsage:  berth install [--user | --sys-prefix | --prefix DIR]`);
  const template = JSON.parse(fs.readFileSync(path.join(repoRoot, 'install.json'), 'utf8')) as { argv: string[] };
  const cli = path.join(repoRoot, 'dist', 'kernel', 'cli', 'main.js');
  // A user's kernel runs in the user's own namespace, entered by the shim
  // (exec'd, so Jupyter's signals reach the kernel itself).
  const shim = path.join(repoRoot, 'native', 'build', 'Release', 'berth-shim');
  template.argv = [...(process.getuid?.() === 0 ? [] : [shim, 'enter']), process.execPath, cli, 'kernel', '-f', '{connection_file}'];
  const dir = path.join(kernelsDir(args), 'berth');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'kernel.json'), JSON.stringify(template, null, 2) + '\n');
  return dir;
}

export async function runKernel(args: string[]): Promise<void> {
  const at = args.indexOf('-f');
  const file = at >= 0 ? args[at + 1] : undefined;
  if (!file) throw new BerthError('usage: berth kernel -f CONNECTION_FILE (Jupyter starts it this way; see berth install)');
  const { readConnectionFile } = await import('../jupyter/connection');
  const { Kernel } = await import('../jupyter/kernel');
  const { BerthInterpreter } = await import('./interpreter');
  const kernel = new Kernel(readConnectionFile(file), new BerthInterpreter());
  // Interrupts arrive as messages (interrupt_mode: message); a stray SIGINT must not kill the kernel.
  process.on('SIGINT', () => undefined);
  // The last guard: whatever a message provokes, the kernel logs it and lives.
  process.on('unhandledRejection', (e) => process.stderr.write(`berth kernel: ${(e as Error)?.stack ?? String(e)}\n`));
  await kernel.start();
  // As ipykernel: when the client that started us dies, do not linger.
  const parent = Number(process.env.JPY_PARENT_PID || 0);
  if (parent > 1) {
    setInterval(() => {
      try {
        process.kill(parent, 0);
      } catch {
        void kernel.shutdown();
      }
    }, 1000).unref();
  }
}
