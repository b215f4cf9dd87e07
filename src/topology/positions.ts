// Maps a path inside the parsed data (["spec", "sources", 0, "topic"]) back to the YAML node it
// came from, so every message can say file:line:col.

import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair, type YAMLMap } from 'yaml';

export interface Position {
  line: number;
  col: number;
}

interface Found {
  /** Deepest node reached, and whether the whole path was found. */
  node: Node | null;
  keyNode: Node | null;
  complete: boolean;
}

export class YamlPositions {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly text: string,
  ) {}

  /** Position of the node at `path`, or of the deepest ancestor that exists. */
  at(path: readonly PropertyKey[], opts: { key?: boolean } = {}): Position {
    const found = this.find(path);
    const node = found.complete
      ? opts.key && found.keyNode ? found.keyNode : (found.node ?? found.keyNode)
      : (found.keyNode ?? found.node);
    return this.pos(node?.range?.[0] ?? 0);
  }

  /** Position of a missing field: the key (or item) of its parent. */
  parentOf(path: readonly PropertyKey[]): Position {
    const parent = path.slice(0, -1);
    const found = this.find(parent);
    if (found.complete && found.keyNode) return this.pos(found.keyNode.range?.[0] ?? 0);
    return this.at(parent);
  }

  /** Position of character `offset` inside the string scalar at `path` (a CEL expression). */
  inScalar(path: readonly PropertyKey[], value: string, offset: number): Position {
    const found = this.find(path);
    const node = found.complete ? found.node : null;
    if (!node || !isScalar(node) || !node.range) return this.at(path);
    const [start, end] = node.range;
    // Plain and quoted scalars without escapes hold the value verbatim; otherwise point at the start.
    const idx = this.text.slice(start, end).indexOf(value);
    return this.pos(idx >= 0 ? start + idx + offset : start);
  }

  pos(offset: number): Position {
    const { line, col } = this.lines.linePos(offset);
    return { line, col };
  }

  /** Each map's scalar keys, indexed once: a file with thousands of problems stays linear. */
  private readonly keyIndex = new WeakMap<YAMLMap, Map<string, Pair>>();

  private keysOf(map: YAMLMap): Map<string, Pair> {
    let index = this.keyIndex.get(map);
    if (!index) {
      index = new Map();
      for (const p of map.items as Pair[]) {
        const key = isScalar(p.key) ? String(p.key.value) : undefined;
        if (key !== undefined && !index.has(key)) index.set(key, p);
      }
      this.keyIndex.set(map, index);
    }
    return index;
  }

  private find(path: readonly PropertyKey[]): Found {
    let node: Node | null = (this.doc.contents as Node | null) ?? null;
    let keyNode: Node | null = null;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      if (isMap(node)) {
        const pair = this.keysOf(node).get(String(seg));
        if (!pair) return { node, keyNode, complete: false };
        keyNode = pair.key as Node;
        // `key:` with no value: the key is the best position for it.
        node = (pair.value as Node | null) ?? null;
        if (!node) return { node: null, keyNode, complete: i === path.length - 1 };
      } else if (isSeq(node)) {
        const item = node.items[Number(seg)] as Node | undefined;
        if (!item) return { node, keyNode, complete: false };
        keyNode = null;
        node = item;
      } else {
        return { node, keyNode, complete: false };
      }
    }
    return { node, keyNode, complete: true };
  }
}
