// Integration code in the style of node-vsphere-soap (a once popular wrapper over node-soap),
// written from memory of its API, not copied: a client that logs in itself through node-soap,
// keeps the session cookie itself from the Login answer, and runs commands by name with
// callbacks turned into 'result'/'error' events. Tests hand it a client from createSoapClient
// instead of soap.createClient and expect it to work unchanged.
import { EventEmitter } from 'node:events';
import type { Client } from 'soap';

type SoapCallback = (err: unknown, result: any, raw: unknown, soapHeader: unknown) => void;

export class LegacyVsphereClient extends EventEmitter {
  serviceContent: any;
  userName: string | undefined;
  private cookie: string | undefined;

  constructor(private readonly soapClient: Client, private readonly credentials: { user: string; password: string }) {
    super();
    // The original connected from its constructor and announced it with 'ready'.
    setImmediate(() => this.connect());
  }

  private connect(): void {
    this.runCommand('RetrieveServiceContent', { _this: { attributes: { type: 'ServiceInstance' }, $value: 'ServiceInstance' } })
      .once('error', (err) => this.emit('error', err))
      .once('result', (result) => {
        this.serviceContent = result.returnval;
        this.runCommand('Login', { _this: this.serviceContent.sessionManager, userName: this.credentials.user, password: this.credentials.password })
          .once('error', (err) => this.emit('error', err))
          .once('result', (login) => {
            // What the original did with the session cookie: read it off the answer, send it back.
            const setCookie = (this.soapClient.lastResponseHeaders as Record<string, string[] | undefined>)['set-cookie'];
            this.cookie = setCookie?.[0]?.split(';')[0];
            if (this.cookie) this.soapClient.addHttpHeader('Cookie', this.cookie);
            this.userName = login.returnval.userName;
            this.emit('ready');
          });
      });
  }

  runCommand(command: string, args: object): EventEmitter {
    const emitter = new EventEmitter();
    const method = (this.soapClient as any).VimService.VimPort[command] as (args: object, cb: SoapCallback) => void;
    method(args, (err, result, raw, soapHeader) => {
      if (err) {
        emitter.emit('error', err);
        return;
      }
      if (command === 'Logout') this.emit('disconnect');
      emitter.emit('result', result, raw, soapHeader);
    });
    return emitter;
  }

  /** Names of every VirtualMachine, the README's container-view example. */
  vmNames(): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const rootFolder = this.serviceContent.rootFolder;
      this.runCommand('CreateContainerView', { _this: this.serviceContent.viewManager, container: rootFolder, type: ['VirtualMachine'], recursive: true })
        .once('error', reject)
        .once('result', (result) => {
          const containerView = result.returnval;
          const propertySpec = { attributes: { 'xsi:type': 'PropertySpec' }, type: 'VirtualMachine', pathSet: ['name'] };
          const traversalSpec = { attributes: { 'xsi:type': 'TraversalSpec' }, type: 'ContainerView', path: 'view', skip: false };
          const objectSpec = { attributes: { 'xsi:type': 'ObjectSpec' }, obj: containerView, skip: true, selectSet: [traversalSpec] };
          const propertyFilterSpec = { attributes: { 'xsi:type': 'PropertyFilterSpec' }, propSet: [propertySpec], objectSet: [objectSpec] };
          this.runCommand('RetrievePropertiesEx', { _this: this.serviceContent.propertyCollector, specSet: [propertyFilterSpec], options: {} })
            .once('error', reject)
            .once('result', (r) => {
              const objects = Array.isArray(r.returnval.objects) ? r.returnval.objects : [r.returnval.objects];
              resolve(objects.map((o: any) => {
                const props = Array.isArray(o.propSet) ? o.propSet : [o.propSet];
                const name = props.find((p: any) => p.name === 'name').val;
                return typeof name === 'object' ? name.$value : name;
              }));
            });
        });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.runCommand('Logout', { _this: this.serviceContent.sessionManager }).once('error', reject).once('result', () => resolve());
    });
  }
}
