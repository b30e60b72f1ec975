/**
 * The `connectors` list of a configuration: one entry per venue's ledger, `{ "kind": ..., "venue":
 * ..., ... }`, each checked against its kind's settings (connectors/kinds.ts). Missing settings
 * take the kind's defaults for the venue. The old form, a section per kind (`evm`, `fabric`), is
 * still read, with a deprecation warning, and its problems are named where it was written.
 */
import Type, { type TSchema } from 'typebox';
import { type ConnectorSettings, LEDGER_KINDS, ledgerKind } from '../connectors/index.ts';
import { makeError, type VenueLedger } from '../gateway/index.ts';

/** A connector entry's shape for the configuration's type: its kind's own settings besides. */
export const ConnectorEntry = Type.Object(
  { kind: Type.String(), venue: Type.String(), enabled: Type.Boolean() },
  { additionalProperties: Type.Unknown() },
);

/** Where each entry read from the old form was written: `/connectors/1` -> `/fabric/networks/0`. */
export type Origins = Map<string, string>;

/**
 * Replaces the connectors of each kind whose old section the file has by that section's entries;
 * returns the file without those sections. Giving both forms is refused: which would win is a guess.
 */
export function readLegacy(
  raw: Record<string, unknown>,
  connectors: unknown[],
  file: string,
  origins: Origins,
  warn: (message: string) => void,
): Record<string, unknown> {
  const old = LEDGER_KINDS.filter((k) => k.legacy !== undefined && k.legacy.section in raw);
  if (old.length === 0) return raw;
  const sections = old.map((k) => `"${k.legacy!.section}"`).join(' and ');
  if ('connectors' in raw) {
    throw makeError(
      `config file ${file}: ${sections} is the old form of "connectors": give "connectors" alone`,
      'BAD_CONFIG',
    );
  }
  const rest = { ...raw };
  const added: Array<{ at: string; entry: Record<string, unknown> }> = [];
  for (const kind of old) {
    const { section, entries } = kind.legacy!;
    const value = raw[section];
    delete rest[section];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw makeError(`/${section} (in ${file}): must be an object`, 'BAD_CONFIG');
    }
    for (const { at, entry } of entries(value as Record<string, unknown>)) {
      added.push({ at: `/${section}${at}`, entry: { ...entry, kind: kind.name } });
    }
  }
  const kept = connectors.filter((c) => !old.some((k) => k.name === (c as ConnectorSettings).kind));
  connectors.splice(0, connectors.length, ...kept, ...added.map((a) => a.entry));
  added.forEach(({ at }, i) => origins.set(`/connectors/${kept.length + i}`, at));
  warn(
    `${file}: ${sections} ${old.length > 1 ? 'are' : 'is'} deprecated: list the ledgers in "connectors", ` +
      `e.g. [{ "kind": "${old[0]!.name}", "venue": ... }] (docs/configuration.md)`,
  );
  return rest;
}

/** Fills each entry of a known kind with its kind's defaults for its venue. */
export function withDefaults(connectors: unknown[]): void {
  connectors.forEach((entry, i) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return;
    const e = entry as Record<string, unknown>;
    const kind = ledgerKind(e.kind);
    if (kind === undefined) return;
    const venue =
      typeof e.venue === 'string' && new RegExp(kind.venuePattern).test(e.venue) ? e.venue : undefined;
    connectors[i] = { ...kind.defaults(venue), ...e };
  });
}

/**
 * Entries that name a venue an earlier entry names: two connectors would settle its trades and
 * share its data folder (`<dataDir>/<venue>/`). Each as a JSON pointer to the venue and a text;
 * `where` names an entry where it was written.
 */
export function venuesTwice(
  connectors: readonly ConnectorSettings[],
  where: (at: string) => string,
): { at: string; text: string }[] {
  const first = new Map<string, number>();
  return connectors.flatMap((c, i) => {
    const j = first.get(c.venue);
    if (j === undefined) first.set(c.venue, i);
    return j === undefined
      ? []
      : [
          {
            at: `/connectors/${i}/venue`,
            text: `${c.venue} is the venue of ${where(`/connectors/${j}`)} already: one entry per venue`,
          },
        ];
  });
}

/** The schema of this list: each entry by its kind's settings, an unknown kind by the kinds there are. */
export function connectorsSchema(connectors: unknown): TSchema {
  const kinds = Type.Object({ kind: Type.Union(LEDGER_KINDS.map((k) => Type.Literal(k.name))) });
  if (!Array.isArray(connectors) || connectors.length > 64) return Type.Array(kinds, { maxItems: 64 });
  return Type.Tuple(
    connectors.map((entry) => {
      const kind = ledgerKind((entry as { kind?: unknown } | null)?.kind);
      if (kind === undefined) return kinds;
      return Type.Object(
        {
          kind: Type.Literal(kind.name),
          venue: Type.String({ pattern: kind.venuePattern }),
          enabled: Type.Boolean(),
          ...kind.settings,
        },
        { additionalProperties: false },
      );
    }),
  );
}

/**
 * The environment variables of the kinds: `MOSAIC_<KIND>` switches every connector of the kind on
 * or off, and each kind's own set one setting of each of its connectors.
 */
export function connectorEnv(
  connectors: readonly ConnectorSettings[],
): Record<string, { path: string[]; kind: 'string' | 'integer' | 'boolean' }[]> {
  const vars: Record<string, { path: string[]; kind: 'string' | 'integer' | 'boolean' }[]> = {};
  for (const kind of LEDGER_KINDS) {
    const of = connectors.flatMap((c, i) => (c.kind === kind.name ? [String(i)] : []));
    vars[`MOSAIC_${kind.name.toUpperCase()}`] = of.map((i) => ({
      path: ['connectors', i, 'enabled'],
      kind: 'boolean',
    }));
    for (const [name, { setting, type }] of Object.entries(kind.env)) {
      vars[name] = of.map((i) => ({ path: ['connectors', i, setting], kind: type }));
    }
  }
  return vars;
}

/**
 * The ledger each venue settles on, for the gateway's login answer: its configured connector's
 * kind, else the kind whose venues are named like it; undefined when no kind settles such a venue.
 */
export function ledgerOf(
  connectors: readonly ConnectorSettings[],
): (venue: string) => VenueLedger | undefined {
  return (venue) => {
    const configured = connectors.find((c) => c.venue === venue);
    const kind =
      configured === undefined
        ? LEDGER_KINDS.find((k) => new RegExp(k.venuePattern).test(venue))
        : ledgerKind(configured.kind);
    return kind === undefined ? undefined : { kind: kind.name, scheme: kind.identity };
  };
}
