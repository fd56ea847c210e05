/**
 * The logstores of the local SLS: per shard, the log groups in the order they were written. A cursor is
 * the base64 of a group's position in its shard (real cursors are base64 of a decimal number too, e.g.
 * `MTUyOTQ4MDIwOTY1NTk3ODQ2Mw==`), so cursors of one shard compare in write order.
 */
export interface StoredGroup {
  /** Unix seconds, as SLS keeps `__time__`. */
  time: number;
  topic: string;
  source: string;
  /** The group's LogTags (`__tag__:<key>` in query results); trails set `__receive_time__` etc. */
  tags?: Record<string, string>;
  logs: Array<Record<string, string>>;
}

export interface AppendedRange {
  project: string;
  logstore: string;
  shardId: number;
}

export const cursorAt = (position: number): string => Buffer.from(String(position)).toString('base64');

/** The position a cursor names, or undefined for anything that is not one of ours. */
export function positionOf(cursor: string): number | undefined {
  const text = Buffer.from(cursor, 'base64').toString('utf8');
  return /^\d+$/.test(text) && cursorAt(Number(text)) === cursor ? Number(text) : undefined;
}

export class SlsStore {
  private readonly projects = new Map<string, Map<string, StoredGroup[][]>>();
  private readonly listeners: Array<(range: AppendedRange) => void> = [];
  private nextShard = 0;

  createLogstore(project: string, logstore: string, shards = 1): void {
    const stores = this.projects.get(project) ?? new Map<string, StoredGroup[][]>();
    this.projects.set(project, stores);
    if (!stores.has(logstore))
      stores.set(
        logstore,
        Array.from({ length: shards }, () => []),
      );
  }

  /** An empty project (SLS CreateProject); logstores come later. */
  createProject(project: string): void {
    if (!this.projects.has(project)) this.projects.set(project, new Map());
  }

  hasProject(project: string): boolean {
    return this.projects.has(project);
  }

  hasLogstore(project: string, logstore: string): boolean {
    return this.projects.get(project)?.has(logstore) ?? false;
  }

  /** Drops a logstore and everything in it; later writes to it fail until it is created again. */
  deleteLogstore(project: string, logstore: string): boolean {
    return this.projects.get(project)?.delete(logstore) ?? false;
  }

  /** The shards of a logstore, or why there are none. */
  shards(project: string | undefined, logstore: string): StoredGroup[][] | 'no-project' | 'no-logstore' {
    if (project !== undefined) {
      const stores = this.projects.get(project);
      if (!stores) return 'no-project';
      return stores.get(logstore) ?? 'no-logstore';
    }
    const owners = [...this.projects.values()].filter((stores) => stores.has(logstore));
    return owners.length === 1 ? (owners[0]?.get(logstore) ?? 'no-logstore') : 'no-logstore';
  }

  /** The project holding a logstore name, when exactly one does (requests whose host names no project). */
  projectOf(logstore: string): string | undefined {
    const owners = [...this.projects].filter(([, stores]) => stores.has(logstore));
    return owners.length === 1 ? owners[0]?.[0] : undefined;
  }

  /**
   * Writes one log group, to the shards in turn as a hash-less PutLogs would spread them; says where it
   * went (`position`: its index in the shard, what `cursorAt` points to).
   */
  append(project: string, logstore: string, group: StoredGroup): AppendedRange & { position: number } {
    const shards = this.projects.get(project)?.get(logstore);
    if (!shards) throw new Error(`no logstore ${project}/${logstore}`);
    const shardId = this.nextShard++ % shards.length;
    const position = (shards[shardId]?.push(group) ?? 0) - 1;
    const range = { project, logstore, shardId };
    for (const listener of this.listeners) listener(range);
    return { ...range, position };
  }

  onAppend(listener: (range: AppendedRange) => void): void {
    this.listeners.push(listener);
  }

  /** The cursor after the last group of a shard: where the next write will go. */
  endCursor(project: string, logstore: string, shardId: number): string {
    return cursorAt(this.projects.get(project)?.get(logstore)?.[shardId]?.length ?? 0);
  }
}
