/**
 * The few Pulumi property-wire conventions the provider meets. The dynamic-provider host hands
 * the provider plain `google.protobuf.Struct` JSON, so secrets and unknowns arrive as the magic
 * objects and strings of the Pulumi RPC protocol (sdk/nodejs/runtime/rpc.ts). They are copied
 * here, not imported, so the implementation module loads without pulling in `@pulumi/pulumi`;
 * a test pins them to the SDK's values.
 */

/** Key that marks a property value as a special Pulumi object. */
export const SPECIAL_SIG_KEY = '4dabf18193072939515e22adb298388d';
/** Signature value of a secret: `{ [SPECIAL_SIG_KEY]: SECRET_SIG, value }`. */
export const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';
/** The placeholder the engine sends for a value not known yet (during preview). */
export const UNKNOWN_VALUE = '04da6b54-80e4-46f7-96ec-b56ff0331ba9';

/** A secret in its wire form. */
export interface WireSecret {
  readonly [SPECIAL_SIG_KEY]: typeof SECRET_SIG;
  readonly value: unknown;
}

/** Wraps a value as a wire secret: the engine stores it encrypted and shows `[secret]`. */
export function wireSecret(value: unknown): WireSecret {
  return { [SPECIAL_SIG_KEY]: SECRET_SIG, value };
}

/** True for a wire secret. */
export function isWireSecret(value: unknown): value is WireSecret {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)[SPECIAL_SIG_KEY] === SECRET_SIG;
}

/**
 * The plain value of a possibly secret value. The engine unwraps secrets before calling a
 * provider that does not accept them (the dynamic host does not), but a caller driving the
 * provider directly may pass either form.
 */
export function unwrapSecret(value: unknown): unknown {
  return isWireSecret(value) ? value.value : value;
}

/** True when the value, or anything inside it, is not known yet (a preview with computed inputs). */
export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN_VALUE) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (typeof value === 'object' && value !== null) return Object.values(value).some(containsUnknown);
  return false;
}
