/**
 * A configuration's schema errors in words, one line per problem. TypeBox reports a union by
 * each of its branches: a `logLevel` outside its six names is six "must be equal to constant"
 * and a "must match a schema in anyOf". Here a union of values is one line naming them, a union
 * of shapes (an EVM connector's `contracts`: null or an object) is reported by the branch the
 * value has the shape of, and an unknown key is named once.
 */
import { Settings } from 'typebox/system';
import { Pointer } from 'typebox/value';
import { shown } from '../gateway/index.ts';

/** A schema error as TypeBox reports it. */
export interface SchemaError {
  keyword: string;
  schemaPath: string;
  instancePath: string;
  params: object;
  message: string;
}

/** What is wrong (`text`) with the setting at `at` (a JSON pointer such as `/connectors/0/maxFeeGwei`). */
export interface ConfigProblem {
  at: string;
  text: string;
}

/** The problems `check` finds in `value`, each once, in the schema's order. */
export function configProblems(
  check: { Errors(value: unknown): SchemaError[] },
  value: unknown,
): ConfigProblem[] {
  const errors = allErrors(check, value);
  let left: SchemaError[] = [...errors];
  // A union's branches are reported before the union itself, an inner union before an outer one.
  for (const union of errors.filter((e) => e.keyword === 'anyOf')) {
    const inner = left.filter((e) => e.schemaPath.startsWith(`${union.schemaPath}/anyOf/`));
    left = left.filter((e) => !inner.includes(e));
    left.splice(left.indexOf(union), 1, ...explainUnion(union, inner));
  }
  const problems = left.flatMap((e): ConfigProblem[] => {
    const at = e.instancePath;
    switch (e.keyword) {
      case 'additionalProperties':
        return (e.params as { additionalProperties: string[] }).additionalProperties.map((key) => ({
          at: `${at}/${key}`,
          text: 'unknown setting',
        }));
      case 'boolean': // "schema is false" for each unknown key: named above
        return e.schemaPath.endsWith('/additionalProperties') ? [] : [{ at, text: e.message }];
      case 'enum':
      case ALLOWED:
        return [{ at, text: `must be ${list(alternatives(e))}, got ${shown(Pointer.Get(value, at))}` }];
      default:
        return [{ at, text: e.message }];
    }
  });
  const seen = new Set<string>();
  return problems.filter((p) => !seen.has(`${p.at} ${p.text}`) && seen.add(`${p.at} ${p.text}`));
}

/**
 * Every error, not TypeBox's first 8 (its guard against untrusted input, where a union of six
 * values alone takes 7): a configuration is the operator's, and each problem is worth naming.
 */
function allErrors(check: { Errors(value: unknown): SchemaError[] }, value: unknown): SchemaError[] {
  const max = Settings.Get().maxErrors;
  Settings.Set({ maxErrors: 1_000 });
  try {
    return check.Errors(value);
  } finally {
    Settings.Set({ maxErrors: max });
  }
}

/** The keyword of a union no branch of which has the value's type: `params.allowed` names them. */
const ALLOWED = 'allowed';

/**
 * A failed union: the errors of the branches whose type the value has (their fields are what is
 * wrong), or, when it has none of their types, one error naming what it may be.
 */
function explainUnion(union: SchemaError, inner: readonly SchemaError[]): SchemaError[] {
  const branchOf = (e: SchemaError) =>
    /^\d+/.exec(e.schemaPath.slice(`${union.schemaPath}/anyOf/`.length))?.[0];
  const misses = inner.filter(
    (e) => e.instancePath === union.instancePath && ['type', 'const', 'enum', ALLOWED].includes(e.keyword),
  );
  const missed = new Set(misses.map(branchOf));
  const fitting = inner.filter((e) => !missed.has(branchOf(e)));
  if (fitting.length > 0) return fitting;
  // A literal of another type fails on both its type and its value: the value says more.
  const allowed = [...missed].flatMap((branch) => {
    const own = misses.filter((e) => branchOf(e) === branch);
    const values = own.filter((e) => e.keyword !== 'type');
    return (values.length > 0 ? values : own).flatMap(alternatives);
  });
  return [{ ...union, keyword: ALLOWED, params: { allowed } }];
}

/** What an error says the value may be: a type (`null`, `object`) or values (`"info"`). */
function alternatives(e: SchemaError): string[] {
  const p = e.params as {
    type?: string;
    allowedValue?: unknown;
    allowedValues?: unknown[];
    allowed?: string[];
  };
  return (
    p.allowed ??
    (p.type !== undefined ? [p.type] : (p.allowedValues ?? [p.allowedValue]).map((v) => JSON.stringify(v)))
  );
}

/** `"a", "b" or "c"`. */
function list(items: readonly string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}
