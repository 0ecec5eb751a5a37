/**
 * The wire-edge helpers on their own: the protobuf body check, the bounded error text and the
 * short quote.
 */
import { describe, expect, it } from 'vitest';
import { DeleteSpecRequest, GridMasterService, HeartbeatRequest } from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import { capDetails, MalformedRequest, MAX_DETAILS_CHARS, quote, strictDefinition, wireProblem } from '../../runtime/common/grpc-edge.js';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

describe('wireProblem', () => {
  it('accepts what the generated encoders write, including empty bodies', () => {
    expect(wireProblem(DeleteSpecRequest.encode({ expectedGeneration: 7, gridName: 'g' }).finish())).toBeUndefined();
    expect(wireProblem(HeartbeatRequest.encode({ agentId: 'a', nodes: [] }).finish())).toBeUndefined();
    expect(wireProblem(bytes())).toBeUndefined();
  });

  it('names what is wrong and where', () => {
    expect(wireProblem(bytes(0x00))).toBe('field number 0 at byte 0 (protobuf forbids it)');
    expect(wireProblem(bytes(0x08, 0x01, 0x00))).toBe('field number 0 at byte 2 (protobuf forbids it)');
    expect(wireProblem(bytes(0x0b))).toMatch(/^wire type 3 of field 1/);
    expect(wireProblem(bytes(0x08))).toMatch(/^truncated varint of field 1/);
    expect(wireProblem(bytes(0x08, ...Array(10).fill(0xff)))).toMatch(/^truncated varint/);
    expect(wireProblem(bytes(0x09, 1, 2, 3))).toMatch(/^truncated fixed-size field 1/);
    expect(wireProblem(bytes(0x12, 0x7f, 0x41))).toMatch(/^length-delimited field 2 at byte 0 runs past the end/);
    expect(wireProblem(bytes(0x80))).toMatch(/^truncated field tag at byte 0/);
    // field number 2^29 (one past the largest)
    expect(wireProblem(bytes(0x80, 0x80, 0x80, 0x80, 0x10, 0x00))).toMatch(/out of range/);
  });
});

describe('strictDefinition', () => {
  it('decodes good bodies as before and malformed ones to a MalformedRequest naming the method', () => {
    const def = strictDefinition(GridMasterService);
    const good = def.deleteSpec.requestDeserialize(Buffer.from(DeleteSpecRequest.encode({ expectedGeneration: 3, gridName: '' }).finish()));
    expect(good).toEqual({ expectedGeneration: 3, gridName: '' });
    const bad = def.deleteSpec.requestDeserialize(Buffer.from([0x00])) as unknown;
    expect(bad).toBeInstanceOf(MalformedRequest);
    expect((bad as MalformedRequest).toServiceError()).toMatchObject({ code: 3, details: expect.stringContaining('/sutra.grid.v1.GridMaster/DeleteSpec') });
  });
});

describe('capDetails and quote', () => {
  it('keeps short texts, cuts long ones to the limit as sent (encodeURI), and repairs lone surrogates', () => {
    expect(capDetails('agent "a" not found')).toBe('agent "a" not found');
    const long = capDetails('problem\n'.repeat(10_000));
    expect(encodeURI(long).length).toBeLessThanOrEqual(MAX_DETAILS_CHARS);
    expect(long).toMatch(/\.\.\. \(cut: 80,000 characters in all\)$/);
    const wide = capDetails('é'.repeat(5_000));
    expect(encodeURI(wide).length).toBeLessThanOrEqual(MAX_DETAILS_CHARS);
    expect(() => encodeURI(capDetails('bad \ud800 pair'))).not.toThrow();
  });

  it('quotes a short value whole and a long one by its first characters and its length', () => {
    expect(quote('abc')).toBe('"abc"');
    expect(quote('x'.repeat(100))).toBe(`"${'x'.repeat(64)}"... (100 characters)`);
  });
});
