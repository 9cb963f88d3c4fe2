import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { Redis } from 'ioredis';

import { freePort } from './processes.js';
import { waitUntil } from './wait-for.js';

const run = promisify(execFile);

export interface OwnRedisClusterNode {
  port: number;
  /** This node's cluster id (CLUSTER MYID). */
  id: string;
  /** A plain client of this node alone, for the test's own commands. */
  client: Redis;
}

export interface OwnRedisCluster {
  nodes: OwnRedisClusterNode[];
  /** The value of REDIS_CLUSTER_NODES for it. */
  nodeList: string;
  /** CLUSTER KEYSLOT of `key`. */
  keySlot(key: string): Promise<number>;
  /** The node that holds `slot`, as every node sees it. */
  ownerOf(slot: number): Promise<OwnRedisClusterNode>;
  /** The keys stored on `node`, whatever their slot. */
  keysOn(node: OwnRedisClusterNode): Promise<string[]>;
  /**
   * Moves `slot` and its keys to `target` the way `redis-cli --cluster reshard` does (IMPORTING/MIGRATING,
   * MIGRATE, SETSLOT NODE on every node), and resolves once every node says `target` holds it.
   */
  moveSlot(slot: number, target: OwnRedisClusterNode): Promise<void>;
  /** Kills every node (SIGKILL) and removes their folder. */
  stop(): Promise<void>;
}

/**
 * A Redis Cluster of the test's own: `size` masters, no replicas, on free ports (and cluster bus ports of their
 * own, so that none lands above 65535), nothing on disk but their nodes-<port>.conf in a temporary folder.
 */
export async function startOwnRedisCluster(size = 3): Promise<OwnRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'hookrun-redis-cluster-'));
  const children: ChildProcess[] = [];
  const clients: Redis[] = [];
  const stop = async () => {
    for (const client of clients) client.disconnect();
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    while (ports.length < size * 2) {
      const port = await freePort();
      if (!ports.includes(port)) ports.push(port);
    }
    const nodes: OwnRedisClusterNode[] = [];
    for (let i = 0; i < size; i += 1) {
      const [port, busPort] = [ports[i * 2], ports[i * 2 + 1]];
      // The arguments in the order of `redis-server --help`'s examples; the bus port explicitly (Redis 7).
      const child = spawn(
        'redis-server',
        [
          ...['--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1'],
          ...['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`)],
          ...['--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'],
          ...['--maxmemory-policy', 'noeviction'],
        ],
        { stdio: 'ignore' },
      );
      children.push(child);
      const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
      client.on('error', () => undefined);
      clients.push(client);
      await waitUntil(
        async () => {
          if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited with ${child.exitCode}`);
          try {
            if (client.status !== 'ready') await client.connect();
            return (await client.ping()) === 'PONG';
          } catch {
            client.disconnect();
            return false;
          }
        },
        10_000,
        `redis-server on port ${port}`,
      );
      nodes.push({ port, id: await client.cluster('MYID'), client });
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((node) => `127.0.0.1:${node.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    // Every node must have heard of every slot's owner, not just the one the command talked to last.
    await waitUntil(
      async () => {
        const infos = await Promise.all(nodes.map((node) => node.client.cluster('INFO')));
        return infos.every(
          (info) =>
            /^cluster_state:ok\r?$/m.test(info) && /^cluster_known_nodes:(\d+)/m.exec(info)?.[1] === String(size),
        );
      },
      20_000,
      'the cluster to be ok on every node',
    );

    const ownersOf = async (slot: number): Promise<string[]> =>
      Promise.all(
        nodes.map(async (node) => {
          const ranges = await node.client.cluster('SLOTS');
          const range = ranges.find(([first, last]) => first <= slot && slot <= last);
          return range?.[2]?.[2] ?? '';
        }),
      );
    const ownerOf = async (slot: number): Promise<OwnRedisClusterNode> => {
      const owners = await ownersOf(slot);
      const owner = nodes.find((node) => owners.every((id) => id === node.id));
      if (!owner) throw new Error(`the nodes do not agree on who holds slot ${slot}: ${owners.join(', ')}`);
      return owner;
    };

    return {
      nodes,
      nodeList: nodes.map((node) => `127.0.0.1:${node.port}`).join(','),
      keySlot: async (key) => await nodes[0].client.cluster('KEYSLOT', key),
      ownerOf,
      keysOn: async (node) => {
        const keys: string[] = [];
        let cursor = '0';
        do {
          const [next, batch] = await node.client.scan(cursor, 'COUNT', 500);
          keys.push(...batch);
          cursor = next;
        } while (cursor !== '0');
        return keys;
      },
      moveSlot: async (slot, target) => {
        const source = await ownerOf(slot);
        if (source === target) throw new Error(`slot ${slot} is already on port ${target.port}`);
        await target.client.cluster('SETSLOT', slot, 'IMPORTING', source.id);
        await source.client.cluster('SETSLOT', slot, 'MIGRATING', target.id);
        for (;;) {
          const keys = await source.client.cluster('GETKEYSINSLOT', slot, 100);
          if (keys.length === 0) break;
          await source.client.call('MIGRATE', '127.0.0.1', String(target.port), '', '0', '5000', 'KEYS', ...keys);
        }
        // The target first, then the source, then the others: the order redis-cli uses.
        for (const node of [target, source, ...nodes.filter((n) => n !== target && n !== source)]) {
          await node.client.cluster('SETSLOT', slot, 'NODE', target.id);
        }
        await waitUntil(
          async () => (await ownersOf(slot)).every((id) => id === target.id),
          10_000,
          `every node to see slot ${slot} on port ${target.port}`,
        );
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
