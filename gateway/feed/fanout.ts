/**
 * Delivery to the subscribers of a channel, and the slow-consumer policy: a client whose unsent
 * data passes `slowBytes` gets nothing more on a channel but one `conflated` notice; once its
 * buffer is below a quarter of that, a fresh snapshot resyncs it. Past `hardBytes` it is closed
 * (1008). Nothing queues in the feed for a client, so memory stays bounded whatever it does.
 *
 * The hot path (`deliver`) allocates nothing per subscriber: the one frame goes to every send.
 */
import type { Channel, Peer, Subscription } from './channel.ts';
import type { FeedClient } from './client.ts';

export interface FanoutLimits {
  slowBytes: number;
  hardBytes: number;
  /**
   * Unsent bytes allowed over all clients together: each client's slow threshold is at most its
   * share. What a socket queues costs the server several times its bytes in bookkeeping, so
   * 1,000 clients at 4 MiB each would be gigabytes.
   */
  totalBytes: number;
}

export class Fanout {
  #peers = new Map<FeedClient, Peer>();
  #conflated = new Set<Subscription>();
  #doomed: Peer[] = [];
  /** Inside a loop over subscribers: a `drop` (say, from a close handler) waits for its end. */
  #busy = false;
  #slowMax: number;
  #total: number;
  /** The slow threshold now: `slowBytes`, or less when many clients share `totalBytes`. */
  #slow: number;
  #resume: number;
  #hard: number;
  #now: () => number;
  framesSent = 0;
  /** Clients closed as slow consumers. */
  dropped = 0;
  /** Times a subscription was switched to conflated updates. */
  conflations = 0;
  /** Frames not sent to conflated subscriptions. */
  withheld = 0;
  subscriptions = 0;

  constructor(limits: FanoutLimits, now: () => number) {
    this.#slowMax = limits.slowBytes;
    this.#total = limits.totalBytes;
    this.#slow = limits.slowBytes;
    this.#resume = limits.slowBytes / 4;
    this.#hard = limits.hardBytes;
    this.#now = now;
  }

  /** Subscriptions whose updates are withheld now. */
  get conflated(): number {
    return this.#conflated.size;
  }

  /** Sends `frame` to every subscriber of `channel` (resyncing the conflated ones that drained). */
  deliver(channel: Channel, frame: Buffer): void {
    const subs = channel.subs;
    this.#busy = true;
    for (let i = 0; i < subs.length; i++) {
      const sub = subs[i]!;
      if (!sub.conflated) this.#send(sub, frame);
      else if (sub.peer.client.bufferedAmount < this.#resume) this.#resync(sub);
      else this.withheld++;
    }
    this.#reap();
  }

  /**
   * Adds (or restarts) `client`'s subscription to `channel`: `ack` first if given, then the
   * updates after `fromSeq` if all are retained, else a snapshot.
   */
  join(client: FeedClient, channel: Channel, fromSeq: number | undefined, ack: Buffer | undefined): void {
    let peer = this.#peers.get(client);
    if (peer === undefined) {
      peer = { client, subs: new Map(), doomed: false };
      this.#peers.set(client, peer);
      this.#share();
    }
    if (peer.doomed) return;
    let sub = peer.subs.get(channel);
    if (sub === undefined) {
      // The same name under another visibility (a consolidated book after a login): replaced.
      for (const other of peer.subs.values()) if (other.channel.name === channel.name) this.#remove(other);
      sub = { peer, channel, conflated: false };
      peer.subs.set(channel, sub);
      channel.subs.push(sub);
      this.subscriptions++;
    } else {
      this.#unconflate(sub);
    }
    this.#busy = true;
    if (ack !== undefined) this.#write(peer, ack);
    if (fromSeq !== undefined && channel.canReplay(fromSeq)) {
      for (let seq = fromSeq + 1; seq <= channel.seq; seq++) {
        if (!this.#send(sub, channel.frame(seq))) break;
      }
    } else {
      this.#send(sub, channel.snapshot(this.#now()));
    }
    this.#reap();
  }

  /** Ends one subscription; false if there was none. */
  leave(client: FeedClient, channel: Channel): boolean {
    const sub = this.#peers.get(client)?.subs.get(channel);
    if (sub === undefined) return false;
    this.#remove(sub);
    return true;
  }

  /** Ends the subscription to the channel named `name` (whatever its visibility); false if none. */
  leaveByName(client: FeedClient, name: string): boolean {
    const peer = this.#peers.get(client);
    if (peer === undefined) return false;
    for (const sub of peer.subs.values()) {
      if (sub.channel.name === name) {
        this.#remove(sub);
        return true;
      }
    }
    return false;
  }

  /** Forgets a connection everywhere. */
  drop(client: FeedClient): void {
    const peer = this.#peers.get(client);
    if (peer === undefined) return;
    if (this.#busy) {
      if (!peer.doomed) this.#doomed.push(peer);
      peer.doomed = true;
      return;
    }
    this.#peers.delete(client);
    this.#share();
    for (const sub of peer.subs.values()) this.#remove(sub);
  }

  #share(): void {
    this.#slow = Math.min(this.#slowMax, Math.floor(this.#total / Math.max(1, this.#peers.size)));
    this.#resume = this.#slow / 4;
  }

  /** Heartbeats for idle channels; resync (or close) of conflated clients. */
  tick(channels: Iterable<Channel>, heartbeatMs: number): void {
    const now = this.#now();
    this.#busy = true;
    for (const sub of this.#conflated) {
      const buffered = sub.peer.client.bufferedAmount;
      if (buffered > this.#hard) this.#doom(sub.peer);
      else if (buffered < this.#resume) this.#resync(sub);
    }
    for (const channel of channels) {
      if (channel.subs.length === 0 || now - channel.lastSentAt < heartbeatMs) continue;
      channel.lastSentAt = now;
      const frame = channel.heartbeat();
      for (const sub of channel.subs) if (!sub.conflated) this.#send(sub, frame);
    }
    this.#reap();
  }

  /** Sends unless the client is slow; returns whether it was sent. */
  #send(sub: Subscription, frame: Buffer): boolean {
    const peer = sub.peer;
    if (peer.doomed) return false;
    const buffered = peer.client.bufferedAmount;
    if (buffered > this.#slow) {
      if (buffered > this.#hard) this.#doom(peer);
      else {
        sub.conflated = true;
        this.#conflated.add(sub);
        this.conflations++;
        this.withheld++;
        this.#write(peer, sub.channel.conflatedNotice());
      }
      return false;
    }
    return this.#write(peer, frame);
  }

  #write(peer: Peer, frame: Buffer): boolean {
    try {
      peer.client.send(frame);
    } catch {
      // A socket that cannot take a frame is gone: forget it rather than break the fan-out.
      if (!peer.doomed) this.#doomed.push(peer);
      peer.doomed = true;
      return false;
    }
    this.framesSent++;
    return true;
  }

  #resync(sub: Subscription): void {
    this.#unconflate(sub);
    this.#send(sub, sub.channel.snapshot(this.#now()));
  }

  #unconflate(sub: Subscription): void {
    if (!sub.conflated) return;
    sub.conflated = false;
    this.#conflated.delete(sub);
  }

  #doom(peer: Peer): void {
    if (peer.doomed) return;
    peer.doomed = true;
    this.dropped++;
    this.#doomed.push(peer);
    try {
      peer.client.close(1008, 'slow consumer');
    } catch {
      // Closing a socket that is already gone: nothing more to do.
    }
  }

  /** Drops the clients doomed during a fan-out, once no loop runs over their subscriptions. */
  #reap(): void {
    this.#busy = false;
    if (this.#doomed.length === 0) return;
    const doomed = this.#doomed;
    this.#doomed = [];
    for (const peer of doomed) this.drop(peer.client);
  }

  #remove(sub: Subscription): void {
    this.#unconflate(sub);
    sub.peer.subs.delete(sub.channel);
    const subs = sub.channel.subs;
    const i = subs.indexOf(sub);
    if (i >= 0) {
      subs[i] = subs[subs.length - 1]!;
      subs.pop();
    }
    this.subscriptions--;
  }
}
