// What to copy where: one -x item, an online endpoint and the target its sessions are copied to.
import type { IpAddress } from '../packet/index.js';

export interface OnlineEndpoint {
  /** null = any local address ("global port"). */
  readonly ip: IpAddress | null;
  readonly port: number;
  /** Source MAC for data-link sending; null when not given. */
  readonly mac: string | null;
}

export interface TargetEndpoint {
  readonly ip: IpAddress;
  readonly port: number;
  /** Next-hop MAC for data-link sending; null when not given. */
  readonly mac: string | null;
}

export interface Transfer {
  readonly online: OnlineEndpoint;
  readonly target: TargetEndpoint;
}
