// `system check` and `system prune`: what crashed or killed processes left
// in the store, reported, and cleaned with what docker's system prune
// removes (stopped containers, unused networks, dangling images).
import type { Engine, Finding } from '../engine';
import { humanSize } from '../render/units';
import { removedLines } from './image-manage';
import { Command } from './types';

// Every listed image whole: its manifest and config, and each layer as a
// snapshot or a blob it can be unpacked from again.
function imageFindings(engine: Engine): Finding[] {
  const out: Finding[] = [];
  for (const img of engine.images.list()) {
    const name = img.refs[0] ?? img.id.slice(7, 19);
    const missing = engine.images.missingParts(img);
    if (missing.length) out.push({ what: `image ${name} lacks ${missing.join(', ')}: remove it (berth rmi -f ${name}) and pull or build it again` });
  }
  return out;
}

export const systemCheckCommand: Command = {
  name: 'system-check',
  usage: 'system check',
  summary: 'Report what interrupted or killed operations left in the store, and any image that is not whole (changes nothing)',
  flags: [],
  maxArgs: 0,
  async run(_p, { engine, io }) {
    const found = [...engine.leftovers(), ...imageFindings(engine)];
    if (!found.length) {
      io.out('The store is whole: no operation was left half done.\n');
      return 0;
    }
    io.out(`${found.map((f) => `- ${f.what}${f.path ? ` (${f.path})` : ''}`).join('\n')}\n\n${found.length} thing${found.length > 1 ? 's' : ''} to clean: berth system prune cleans them.\n`);
    return 1;
  },
};

export const systemPruneCommand: Command = {
  name: 'system-prune',
  usage: 'system prune [OPTIONS]',
  summary: 'Remove stopped containers, unused networks and dangling images, and clean what interrupted operations left',
  flags: [
    { long: 'all', short: 'a', kind: 'bool', help: 'Remove all unused images, not just dangling ones' },
    { long: 'volumes', kind: 'bool', help: 'Prune anonymous volumes' },
    { long: 'force', short: 'f', kind: 'bool', help: 'Do not prompt for confirmation' },
  ],
  maxArgs: 0,
  async run(p, { engine, io }) {
    const cleaned = await engine.recover();
    const containers: string[] = [];
    for (const c of engine.containers.list(true)) {
      if (c.state.Running || c.state.Paused) continue;
      await engine.containers.remove(c.record.Id, false);
      containers.push(c.record.Id);
    }
    const networks = engine.networks.prune();
    const volumes = p.flags.volumes === true ? engine.volumes.prune(false) : undefined;
    const images = engine.images.prune(p.flags.all === true);
    const sections: string[] = [];
    if (containers.length) sections.push(`Deleted Containers:\n${containers.join('\n')}\n`);
    if (networks.length) sections.push(`Deleted Networks:\n${networks.map((n) => n.Name).join('\n')}\n`);
    if (volumes?.removed.length) sections.push(`Deleted Volumes:\n${volumes.removed.join('\n')}\n`);
    const imageLines = images.removed.flatMap((r) => removedLines(r, 'untagged', 'deleted'));
    if (imageLines.length) sections.push(`Deleted Images:\n${imageLines.join('\n')}\n`);
    if (cleaned.length) sections.push(`Cleaned after interrupted operations:\n${cleaned.map((f) => f.what).join('\n')}\n`);
    io.out(`${sections.join('\n')}${sections.length ? '\n' : ''}Total reclaimed space: ${humanSize(images.reclaimed + (volumes?.reclaimed ?? 0))}\n`);
    return 0;
  },
};
