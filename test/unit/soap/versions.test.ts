import { describe, expect, it } from 'vitest';
import { vim25Version } from '../../../src/soap/versions.ts';

const FILE = `<?xml version="1.0" encoding="UTF-8" ?>
<namespaces version="1.0">
  <namespace><name>urn:vim25</name><version>8.0.3.0</version>
    <priorVersions><version>8.0.2.0</version><version>8.0.1.0</version></priorVersions>
  </namespace>
  <namespace><name>urn:vim2</name><version>2.0</version></namespace>
</namespaces>`;

describe('vim25Version', () => {
  it('reads the urn:vim25 version, not a prior one or another namespace\'s', () => {
    expect(vim25Version(FILE)).toBe('8.0.3.0');
    expect(vim25Version(FILE.replace('<name>urn:vim25</name>', '<name>urn:other</name>'))).toBeUndefined();
  });

  it.each([
    ['not XML', 'hello'],
    ['HTML', '<html><body>404</body></html>'],
    ['a DOCTYPE', `<!DOCTYPE x [<!ENTITY e "9.9">]>${FILE.replace(/^<\?xml[^>]*\?>/, '')}`],
    ['an unclosed namespace repeated 40 000 times', `<namespaces>${'<namespace><name>urn:vim25</name><version>1</version>'.repeat(40_000)}`],
    ['a version with spaces inside', FILE.replace('8.0.3.0', '8.0 3.0')],
  ])('says nothing for %s', (_what, xml) => {
    expect(vim25Version(xml)).toBeUndefined();
  });
});
