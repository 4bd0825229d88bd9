// Reading a small document (a WSDL, an OVF descriptor) by where its elements stand: each element
// by its local name, with the local names of the elements it is in, which the reader keeps so
// that its callers do not each keep a stack of their own.
import { localName } from './xml.ts';
import { readXml, type XmlLimits } from './xml-reader.ts';

export interface ElementHandler {
  /** `parents`: the open elements' local names, the root first; `qname` as written (prefix included). */
  open?(name: string, attributes: Record<string, string>, parents: readonly string[], qname: string): void;
  text?(text: string): void;
  close?(name: string, parents: readonly string[]): void;
}

/** readXml, each element handed on by its local name with its parents'. */
export function readElements(xml: string, handler: ElementHandler, limits?: Partial<XmlLimits>): void {
  const parents: string[] = [];
  readXml(xml, {
    open(qname, attributes) {
      const name = localName(qname);
      handler.open?.(name, attributes, parents, qname);
      parents.push(name);
    },
    text(t) {
      handler.text?.(t);
    },
    close() {
      const name = parents.pop()!;
      handler.close?.(name, parents);
    },
  }, limits);
}
