/**
 * The driver's set of live orders, kept from each engine's own reports (fills, cancels), from
 * which cancel and modify ops pick a uniformly random target in O(1). Orders are grouped (by
 * instrument in W2): per group an array of handles, plus one handle -> position map; a removal
 * moves the group's last handle into the hole (swap-remove). Handles are small non-negative
 * integers chosen by the adapter (Mosaic: the engine's order id; the peer: the op index).
 */
export class LiveOrders {
  readonly #groups: number[][];
  /** Handle -> position in its group, -1 when not live. */
  readonly #pos: Int32Array;
  /** Handle -> group. */
  readonly #group: Uint16Array;
  #size = 0;

  /** `handles`: one more than the largest handle that will be added. */
  constructor(handles: number, groups: number) {
    this.#groups = Array.from({ length: groups }, () => []);
    this.#pos = new Int32Array(handles).fill(-1);
    this.#group = new Uint16Array(handles);
  }

  get size(): number {
    return this.#size;
  }

  groupSize(group: number): number {
    return this.#groups[group]!.length;
  }

  add(handle: number, group: number): void {
    const list = this.#groups[group]!;
    this.#pos[handle] = list.length;
    this.#group[handle] = group;
    list.push(handle);
    this.#size++;
  }

  /** Forgets a handle; a no-op when it is not live (an order that never rested). */
  remove(handle: number): void {
    const p = this.#pos[handle]!;
    if (p < 0) return;
    const list = this.#groups[this.#group[handle]!]!;
    const last = list.pop()!;
    if (last !== handle) {
      list[p] = last;
      this.#pos[last] = p;
    }
    this.#pos[handle] = -1;
    this.#size--;
  }

  has(handle: number): boolean {
    return this.#pos[handle]! >= 0;
  }

  /** The live handle at floor(u * n) of the group's n, or -1 when the group is empty. */
  pick(group: number, u: number): number {
    const list = this.#groups[group]!;
    return list.length === 0 ? -1 : list[Math.floor(u * list.length)]!;
  }
}
