// The networks service: create, list, inspect (with who is on a network),
// remove and prune, and connecting containers to networks.
import type { ContainerService } from '../containers/service';
import { CreateNetworkRequest, NetworkStore } from './store';
import { NetworkRecord } from './types';

export interface NetworkMember {
  Name: string;
  IPv4Address: string;
  Aliases: string[];
}

export class NetworksService {
  constructor(readonly store: NetworkStore, private readonly containers: () => ContainerService) {}

  create(req: CreateNetworkRequest): NetworkRecord {
    return this.store.create(req);
  }

  list(): NetworkRecord[] {
    return this.store.list();
  }

  get(ref: string): NetworkRecord {
    return this.store.get(ref);
  }

  // docker's network inspect: the record and its Containers.
  inspect(ref: string): NetworkRecord & { Containers: Record<string, NetworkMember> } {
    const n = this.store.get(ref);
    return { ...n, Containers: this.containers().attachments.membersOf(n) };
  }

  remove(ref: string): NetworkRecord {
    return this.store.remove(ref);
  }

  // Every user-defined network no container (running or not) is on.
  prune(): NetworkRecord[] {
    const used = new Set(this.containers().list(true).flatMap((c) => Object.values(c.record.NetworkSettings?.Networks ?? {}).map((e) => e.NetworkID)));
    return this.store.prune((n) => used.has(n.Id));
  }

  connect(netRef: string, container: string, opts: { aliases: string[]; ip?: string }): void {
    this.containers().connect(netRef, container, opts);
  }

  disconnect(netRef: string, container: string): void {
    this.containers().disconnect(netRef, container);
  }
}
