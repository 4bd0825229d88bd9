// A vim25 WSDL of a few operations, for tests of what a given WSDL does (the operations check,
// reading and sharing it) that need no VMware bundle: vimService.wsdl importing vim.wsdl, whose
// portType and binding declare `operations`.
export const SERVICE_WSDL = '<?xml version="1.0"?><!-- the service --><definitions targetNamespace="urn:vim25Service" xmlns="http://schemas.xmlsoap.org/wsdl/"><import location="vim.wsdl" namespace="urn:vim25"/><service name="VimService"/></definitions>';

export const interfaceWsdl = (operations: readonly string[], extra = ''): string =>
  `<?xml version="1.0"?><definitions targetNamespace="urn:vim25" xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/">${extra}`
  + `<portType name="VimPortType">${operations.map((o) => `<operation name="${o}"><input/></operation>`).join('')}</portType>`
  + `<binding name="VimBinding">${operations.map((o) => `<operation name="${o}"><soap:operation soapAction="urn:vim25/8.0.3.0"/></operation>`).join('')}</binding></definitions>`;

/** The two documents, by file name. */
export const smallWsdl = (operations: readonly string[]): Record<string, string> => ({ 'vimService.wsdl': SERVICE_WSDL, 'vim.wsdl': interfaceWsdl(operations) });
