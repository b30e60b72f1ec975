/**
 * The WebSocket wire contract: one TypeBox schema per client operation (the same schemas the
 * protocol document describes), compiled once, and `parseMessage`, which turns a frame into a
 * typed request or a `GatewayError` naming exactly what was wrong.
 */
import Type, { type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { type ErrorCode, makeError } from './errors.ts';
import { DECIMAL_MAX_LENGTH, DECIMAL_PATTERN, decimalSyntaxReason, shown } from './order-rules.ts';

export { shown };

const Id = Type.Union([
  Type.String({ minLength: 1, maxLength: 64 }),
  Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
]);
const Decimal = Type.String({ minLength: 1, maxLength: DECIMAL_MAX_LENGTH, pattern: DECIMAL_PATTERN });
const Name = Type.String({ minLength: 1, maxLength: 64 });
const InstrumentId = Type.String({ minLength: 3, maxLength: 64 });
const OrderId = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const Hex = Type.String({ minLength: 1, maxLength: 1024 });

function op<const O extends string, P extends Record<string, TSchema>>(name: O, props: P) {
  return Type.Object(
    { op: Type.Literal(name), id: Type.Optional(Id), ...props },
    { additionalProperties: false },
  );
}

/** A signed challenge, one branch per scheme (login's and link's), with the op's own fields. */
function proof<const O extends string, P extends Record<string, TSchema>>(name: O, props: P) {
  return Type.Union([
    op(name, {
      scheme: Type.Union([Type.Literal('eip191'), Type.Literal('eip712')]),
      nonce: Hex,
      address: Type.String({ minLength: 1, maxLength: 64 }),
      signature: Hex,
      ...props,
    }),
    op(name, {
      scheme: Type.Literal('x509'),
      nonce: Hex,
      mspId: Type.String({ minLength: 1, maxLength: 64 }),
      certificate: Type.String({ minLength: 1, maxLength: 16_384 }),
      signature: Hex,
      ...props,
    }),
  ]);
}

export const Messages = {
  ping: op('ping', {}),
  /** `purpose` "link": a challenge to link another identity to the session's account. */
  challenge: op('challenge', {
    purpose: Type.Optional(Type.Union([Type.Literal('login'), Type.Literal('link')])),
  }),
  /** A signed challenge, or (`scheme` "token") the bearer token an earlier login gave, for its hour. */
  login: Type.Union([
    ...proof('login', { cancelOnDisconnect: Type.Optional(Type.Boolean()) }).anyOf,
    op('login', {
      scheme: Type.Literal('token'),
      token: Type.String({ minLength: 1, maxLength: 4096 }),
      cancelOnDisconnect: Type.Optional(Type.Boolean()),
    }),
  ]),
  link: proof('link', {}),
  unlink: op('unlink', { identity: Name }),
  new: op('new', {
    instrument: InstrumentId,
    clientOrderId: Name,
    side: Type.Union([Type.Literal('buy'), Type.Literal('sell')]),
    orderType: Type.Union([
      Type.Literal('limit'),
      Type.Literal('market'),
      Type.Literal('stop'),
      Type.Literal('stop-limit'),
    ]),
    quantity: Decimal,
    price: Type.Optional(Decimal),
    stopPrice: Type.Optional(Decimal),
    tif: Type.Optional(
      Type.Union([Type.Literal('GTC'), Type.Literal('GTD'), Type.Literal('IOC'), Type.Literal('FOK')]),
    ),
    expireAt: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    postOnly: Type.Optional(Type.Boolean()),
    stp: Type.Optional(
      Type.Union([
        Type.Literal('cancel-newest'),
        Type.Literal('cancel-oldest'),
        Type.Literal('cancel-both'),
        Type.Literal('decrement-and-cancel'),
      ]),
    ),
  }),
  cancel: op('cancel', { orderId: Type.Optional(OrderId), clientOrderId: Type.Optional(Name) }),
  replace: op('replace', {
    orderId: Type.Optional(OrderId),
    clientOrderId: Type.Optional(Name),
    price: Type.Optional(Decimal),
    quantity: Type.Optional(Decimal),
  }),
  'cancel-all': op('cancel-all', { instrument: Type.Optional(InstrumentId) }),
  withdraw: op('withdraw', { asset: InstrumentId, amount: Decimal }),
  subscribe: op('subscribe', {
    channel: Type.String({ minLength: 1, maxLength: 128 }),
    fromSeq: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    /** The `epoch` of the `subscribed` that `fromSeq` belongs to: sequences restart with the server. */
    epoch: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  }),
  unsubscribe: op('unsubscribe', { channel: Type.String({ minLength: 1, maxLength: 128 }) }),
};

export type Op = keyof typeof Messages;
export type Message<O extends Op> = Static<(typeof Messages)[O]>;
export type Request = { [O in Op]: Message<O> }[Op];

const validators = new Map(
  Object.entries(Messages).map(([name, schema]) => [name, Compile(schema as TSchema)]),
);
/** A login or link is checked against the branch its scheme picks, so errors name that branch's fields. */
const schemeBranches = (union: typeof Messages.login | typeof Messages.link) =>
  new Map(
    union.anyOf.flatMap((branch) => {
      const scheme = branch.properties.scheme as TSchema & {
        anyOf?: Array<{ const: string }>;
        const?: string;
      };
      const names = scheme.anyOf?.map((l) => l.const) ?? [scheme.const!];
      const check = Compile(branch as TSchema);
      return names.map((n) => [n, check] as const);
    }),
  );
const proofBranches = new Map([
  ['login', schemeBranches(Messages.login)],
  ['link', schemeBranches(Messages.link)],
]);
const OPS = Object.keys(Messages).join(', ');
const DECIMAL_FIELDS = new Set(['quantity', 'price', 'stopPrice', 'amount']);

/** The `id` of a frame if it has a usable one, to echo in an error. */
export function requestId(value: unknown): string | number | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const id = (value as { id?: unknown }).id;
  if (typeof id === 'string' && id.length >= 1 && id.length <= 64 && id.isWellFormed()) return id;
  if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return id;
  return undefined;
}

/**
 * Parses a JSON value into a request; throws BAD_MESSAGE, BAD_DECIMAL or UNKNOWN_OP naming the
 * problem.
 */
export function parseMessage(value: unknown): Request {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw makeError('a message must be a JSON object with an "op" field', 'BAD_MESSAGE');
  }
  const name = (value as { op?: unknown }).op;
  if (typeof name !== 'string') throw makeError('a message needs an "op" string field', 'BAD_MESSAGE');
  let check = Object.hasOwn(Messages, name) ? validators.get(name) : undefined;
  if (check === undefined) {
    throw makeError(`unknown op ${shown(name)}; the ops are ${OPS}`, 'UNKNOWN_OP');
  }
  const branches = proofBranches.get(name);
  if (branches !== undefined) {
    const scheme = (value as { scheme?: unknown }).scheme;
    if (scheme === undefined) throw makeError(`${name}: missing field "scheme"`, 'BAD_MESSAGE');
    check = typeof scheme === 'string' ? branches.get(scheme) : undefined;
    if (check === undefined) {
      const schemes = [...branches.keys()].map((k) => `"${k}"`);
      throw makeError(
        `${name}: scheme must be ${schemes.slice(0, -1).join(', ')} or ${schemes.at(-1)}, got ${shown(scheme)}`,
        'BAD_MESSAGE',
      );
    }
  }
  if (!check.Check(value)) {
    const [code, text] = describe(value, [...check.Errors(value)]);
    throw makeError(`${name}: ${text}`, code);
  }
  // for-in, not Object.entries: no array of pairs per frame (a JSON object has no inherited keys).
  for (const field in value) {
    const v = (value as Record<string, unknown>)[field];
    if (typeof v === 'string' && !v.isWellFormed()) {
      throw makeError(`${name}: ${field} is not well-formed Unicode (a lone surrogate)`, 'BAD_MESSAGE', {
        field,
      });
    }
  }
  return value as Request;
}

interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message: string;
}

/** The most telling schema error, in words, and its code. */
function describe(value: object, errors: SchemaError[]): [ErrorCode, string] {
  const extra = errors.find((e) => e.keyword === 'additionalProperties');
  if (extra) {
    const fields = (extra.params.additionalProperties as string[] | undefined) ?? [];
    return ['BAD_MESSAGE', `unknown field${fields.length > 1 ? 's' : ''} ${fields.map(shown).join(', ')}`];
  }
  const missing = errors.find((e) => e.keyword === 'required');
  if (missing) {
    const fields = (missing.params.requiredProperties as string[] | undefined) ?? [];
    return ['BAD_MESSAGE', `missing field${fields.length > 1 ? 's' : ''} ${fields.map(shown).join(', ')}`];
  }
  const first = errors.find((e) => e.instancePath !== '' && e.keyword !== 'boolean') ?? errors[0];
  if (first === undefined) return ['BAD_MESSAGE', 'does not match the schema'];
  const field = first.instancePath.slice(1).split('/')[0]!;
  const got = (value as Record<string, unknown>)[field];
  if (DECIMAL_FIELDS.has(field) && typeof got === 'string') {
    return ['BAD_DECIMAL', decimalSyntaxReason(field, got)];
  }
  return ['BAD_MESSAGE', `${field || 'message'} ${first.message}${field ? `, got ${shown(got)}` : ''}`];
}
