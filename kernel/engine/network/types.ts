// Network types as `docker network inspect` shows them.
export interface NetworkRecord {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: 'bridge';
  Internal: boolean;
  Bridge: string; // the bridge device in this network namespace
  IPAM: { Driver: 'default'; Config: Array<{ Subnet: string; Gateway: string }> };
  Labels: Record<string, string>;
}

// What a container has on one network.
export interface Endpoint {
  NetworkID: string;
  IPAddress: string;
  IPPrefixLen: number;
  Gateway: string;
  MacAddress?: string; // set for endpoints made since MACs were fixed
  Aliases: string[];
}

export const BUILTIN = new Set(['bridge', 'host', 'none']);
