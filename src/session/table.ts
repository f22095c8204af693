// The engine's sessions by exact 4-tuple (client ip:port ⇄ target ip:port) without building a key
// per lookup: a map per client address (address texts are interned by the packet layer, so the same
// string object comes back for every packet) of maps keyed by clientPort × 65536 + targetPort, whose
// values hold the rare sessions that differ only in the target address. Pure.

/** What the table needs of a stored value: its target address. */
export interface TableValue {
  readonly targetIp: string;
}

type Slot<V> = V | V[];

export class SessionTable<V extends TableValue> {
  private readonly byClient = new Map<string, Map<number, Slot<V>>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(clientIp: string, clientPort: number, targetIp: string, targetPort: number): V | undefined {
    const slot = this.byClient.get(clientIp)?.get(clientPort * 65536 + targetPort);
    if (slot === undefined) return undefined;
    if (!Array.isArray(slot)) return slot.targetIp === targetIp ? slot : undefined;
    for (const v of slot) if (v.targetIp === targetIp) return v;
    return undefined;
  }

  /** Stores `v` for its 4-tuple, replacing the value stored there before (if any). */
  set(clientIp: string, clientPort: number, targetPort: number, v: V): void {
    let ports = this.byClient.get(clientIp);
    if (ports === undefined) {
      ports = new Map();
      this.byClient.set(clientIp, ports);
    }
    const k = clientPort * 65536 + targetPort;
    const slot = ports.get(k);
    if (slot === undefined) {
      ports.set(k, v);
      this.count++;
    } else if (!Array.isArray(slot)) {
      if (slot.targetIp === v.targetIp) ports.set(k, v);
      else {
        ports.set(k, [slot, v]);
        this.count++;
      }
    } else {
      const i = slot.findIndex((x) => x.targetIp === v.targetIp);
      if (i >= 0) slot[i] = v;
      else {
        slot.push(v);
        this.count++;
      }
    }
  }

  /** Removes `v` if it is the value stored for its 4-tuple; true when it was. */
  delete(clientIp: string, clientPort: number, targetPort: number, v: V): boolean {
    const ports = this.byClient.get(clientIp);
    const k = clientPort * 65536 + targetPort;
    const slot = ports?.get(k);
    if (ports === undefined || slot === undefined) return false;
    if (!Array.isArray(slot)) {
      if (slot !== v) return false;
      ports.delete(k);
    } else {
      const i = slot.indexOf(v);
      if (i < 0) return false;
      slot.splice(i, 1);
      if (slot.length === 1) ports.set(k, slot[0]!);
    }
    this.count--;
    if (ports.size === 0) this.byClient.delete(clientIp);
    return true;
  }

  *values(): IterableIterator<V> {
    for (const ports of this.byClient.values()) {
      for (const slot of ports.values()) {
        if (Array.isArray(slot)) yield* slot;
        else yield slot;
      }
    }
  }
}
