// The contexts service: the contexts themselves, and the backend that
// runs jobs for one of them.
import { BerthError } from '../errors';
import { JobStore } from './jobs';
import { SlurmBackend } from './slurm';
import { ContextStore } from './store';
import { ContextRecord, JobBackend } from './types';

export class ContextService {
  readonly store: ContextStore;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {
    this.store = new ContextStore(env);
  }

  // The context a call runs in, or undefined for this machine.
  remote(override?: string): ContextRecord | undefined {
    const rec = this.store.get(this.store.currentName(override));
    return rec.Endpoints.slurm ? rec : undefined;
  }

  // The background jobs of one context.
  jobs(context: string): JobStore {
    return new JobStore(context, this.env);
  }

  backend(rec: ContextRecord): JobBackend {
    if (rec.Endpoints.slurm) return new SlurmBackend(rec.Endpoints.slurm, this.env);
    throw new BerthError(`context "${rec.Name}" runs on this machine`);
  }
}
