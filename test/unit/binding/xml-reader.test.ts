import { describe, expect, it } from 'vitest';
import { XmlLimitError, XmlReader, XmlSyntaxError } from '../../../src/binding/xml-reader.ts';

type Event = [string, string, Record<string, string>?];

function events(feed: (r: XmlReader) => void): Event[] {
  const out: Event[] = [];
  const r = new XmlReader({
    open: (name, attributes) => out.push(['open', name, { ...attributes }]),
    text: (t) => {
      const last = out[out.length - 1];
      if (last?.[0] === 'text') last[1] += t;
      else out.push(['text', t]);
    },
    close: (name) => out.push(['close', name]),
  });
  feed(r);
  return out;
}

const DOC = '<?xml version="1.0" encoding="UTF-8"?>\n<!-- c -->\n<a:Envelope xmlns:a="urn:x" x=\'1 > 0\'>'
  + '<b t="q&quot;&amp;">caf\u00e9 \ud834\udd1e &lt;&#65;&#x42;&gt;</b><c/><d><![CDATA[<raw & text>]]></d>'
  + '<e k = "v">line1\r\nline2</e ></a:Envelope>\n';

describe('XmlReader', () => {
  const whole = events((r) => {
    r.write(DOC);
    r.end();
  });

  it('reads elements, attributes, references, CDATA and comments', () => {
    expect(whole).toEqual([
      ['open', 'a:Envelope', { 'xmlns:a': 'urn:x', x: '1 > 0' }],
      ['open', 'b', { t: 'q"&' }],
      ['text', 'caf\u00e9 \ud834\udd1e <AB>'],
      ['close', 'b'],
      ['open', 'c', {}],
      ['close', 'c'],
      ['open', 'd', {}],
      ['text', '<raw & text>'],
      ['close', 'd'],
      ['open', 'e', { k: 'v' }],
      ['text', 'line1\nline2'],
      ['close', 'e'],
      ['close', 'a:Envelope'],
    ]);
  });

  it('gives the same events for UTF-8 bytes cut at every position, also inside a character', () => {
    const bytes = Buffer.from(DOC, 'utf8');
    for (let cut = 1; cut < bytes.length; cut++) {
      const got = events((r) => {
        r.writeBytes(bytes.subarray(0, cut));
        r.writeBytes(bytes.subarray(cut));
        r.endBytes();
      });
      expect(got, `cut at ${cut}`).toEqual(whole);
    }
  });

  it('gives the same events byte by byte', () => {
    const bytes = Buffer.from(DOC, 'utf8');
    expect(events((r) => {
      for (let i = 0; i < bytes.length; i++) r.writeBytes(bytes.subarray(i, i + 1));
      r.endBytes();
    })).toEqual(whole);
  });

  it.each([
    ['a DOCTYPE', '<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>', /DOCTYPE/],
    ['an unknown entity', '<x>&nbsp;</x>', /unknown entity/],
    ['a bare ampersand', '<x>a & b</x>', /bare &/],
    ['a bad character reference', '<x>&#0;</x>', /not an XML character/],
    ['mismatched tags', '<x><y></x></y>', /closes <y>/],
    // End tags are matched in place against the open name: neither a prefix nor an extension of it closes it.
    ['an end tag that extends the name', '<x><y></yz></x>', /<\/yz> closes <y>/],
    ['an end tag that is a prefix of the name', '<x><yz></y></x>', /<\/y> closes <yz>/],
    ['an unclosed element', '<x><y></y>', /unclosed <x>/],
    ['truncated markup', '<x><y', /truncated/],
    ['two roots', '<x/><y/>', /more than one/],
    ['text outside the root', 'junk<x/>', /outside/],
    ['no root', '  ', /no document element/],
  ])('refuses %s', (_what, xml, message) => {
    expect(() => events((r) => {
      r.write(xml);
      r.end();
    })).toThrow(message);
    expect(() => events((r) => {
      r.write(xml);
      r.end();
    })).toThrow(XmlSyntaxError);
  });
});

describe('XmlReader limits and markup cut by chunks', () => {
  const feedAll = (xml: string, chunk: number, limits?: Parameters<typeof readerWith>[0]) => {
    const r = readerWith(limits);
    for (let i = 0; i < xml.length; i += chunk) r.write(xml.slice(i, i + chunk));
    r.end();
  };

  it('gives the same events for every chunk size, with comments, CDATA and PIs straddling the boundaries', () => {
    const doc = '<?pi a?><r><!-- x -- y --><![CDATA[a]]b]]]><!---->t<?q?><e a="1>2" b=\'"\'/></r>';
    const expected = events((r) => {
      r.write(doc);
      r.end();
    });
    for (let size = 1; size <= 12; size++) {
      expect(events((r) => {
        for (let i = 0; i < doc.length; i += size) r.write(doc.slice(i, i + size));
        r.end();
      }), `chunks of ${size}`).toEqual(expected);
    }
  });

  it.each([
    ['maxDepth', '<a><b><c><d/></c></b></a>', { maxDepth: 3 }],
    ['maxElements', '<a><b/><b/><b/><b/></a>', { maxElements: 4 }],
    ['maxMarkup', `<a><b x="${'y'.repeat(100)}"/></a>`, { maxMarkup: 50 }],
    ['maxMarkup', `<a><!--${'y'.repeat(100)}--></a>`, { maxMarkup: 50 }],
  ] as const)('stops at %s', (limit, xml, limits) => {
    expect(() => feedAll(xml, 16, limits)).toThrow(XmlLimitError);
    try {
      feedAll(xml, 16, limits);
    } catch (err) {
      expect((err as XmlLimitError).limit).toBe(limit);
    }
    // Within the limits the same document is read.
    expect(() => feedAll(xml, 16)).not.toThrow();
  });

  it.each([
    ['an attribute without a value', '<a b></a>'],
    ['an unquoted value', '<a b=c></a>'],
    ['an attribute-like run without =', `<a ${'b'.repeat(1000)}></a>`],
    ['an unterminated value', '<a b="c></a>'],
  ])('refuses %s', (_what, xml) => {
    expect(() => feedAll(xml, 7)).toThrow(XmlSyntaxError);
  });
});

function readerWith(limits?: Partial<{ maxDepth: number; maxElements: number; maxMarkup: number }>): XmlReader {
  return new XmlReader({ open: () => undefined, text: () => undefined, close: () => undefined }, limits);
}
