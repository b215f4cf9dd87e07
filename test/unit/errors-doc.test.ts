import fs from 'node:fs';
import path from 'node:path';
import { DEAD_LETTER_REASONS, InfrastructureError } from '../../src/errors';

const doc = fs.readFileSync(path.resolve(__dirname, '../../docs/errors.md'), 'utf8');
const schema = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../schemas/tracklane/DeadLetter.avsc'), 'utf8'));

describe('error codes', () => {
  it('docs/errors.md lists exactly the dead-letter reasons of the code', () => {
    const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \| (decode|validate|dedupe|consent|pii-scan|sink) \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...DEAD_LETTER_REASONS].sort());
  });

  it('the DeadLetter Avro enum has the same reasons', () => {
    const reason = schema.fields.find((f: { name: string }) => f.name === 'reason');
    expect([...reason.type.symbols].sort()).toEqual([...DEAD_LETTER_REASONS].sort());
  });

  it('documents every retriable code', () => {
    for (const dep of ['kafka', 'registry', 'redis'] as const) {
      expect(doc).toContain('`' + new InfrastructureError(dep, 'x').code + '`');
    }
  });
});
