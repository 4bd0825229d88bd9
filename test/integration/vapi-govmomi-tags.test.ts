// Interoperability of client.tags with govmomi's own tagging client (vapi/rest + vapi/tags, from
// the Debian sources the harness is built from; test/peers/govmomi-tags): tags our client makes
// and attaches are what govmomi reads, and the other way round. govmomi 0.24 speaks /rest with a
// vAPI session of its own; our client speaks /api on its vim session; both reach the same
// tagging service.
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HarnessInfo } from '../harness/vcsim.ts';
import { loggedIn, startHarness } from '../fixtures.ts';

const BUILD = fileURLToPath(new URL('../peers/build-govmomi-tags.sh', import.meta.url));
let binary = '';

beforeAll(() => {
  binary = execFileSync('bash', [BUILD], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
});

/** Runs the govmomi peer; its JSON answer, or a rejection with its stderr. */
function govmomi<T>(h: HarnessInfo, ...command: string[]): Promise<T> {
  const args = ['-url', h.url, '-ca', h.certFile, '-user', h.username, '-password', h.password, ...command];
  return new Promise((resolve, reject) => {
    execFile(binary, args, (err, stdout, stderr) => {
      if (err) reject(new Error(`govmomi-tags-peer ${command[0]}: ${stderr || err.message}`));
      else resolve(JSON.parse(stdout) as T);
    });
  });
}

describe('tags between client.tags and govmomi vapi/tags', () => {
  it('a tag our client makes and attaches is what govmomi reads', async () => {
    const h = await startHarness();
    const c = await loggedIn(h);
    const zone = await c.tags.createCategory({ name: 'zone', cardinality: 'SINGLE', associableTypes: ['VirtualMachine'] });
    const east = await c.tags.createTag({ name: 'us-east-1a', categoryId: zone.id, description: 'east' });
    expect(east).toMatchObject({ name: 'us-east-1a', categoryId: zone.id, category_id: zone.id });
    const [vm0] = await c.find('VirtualMachine', '/DC0/vm/DC0_H0_VM0');
    const [vm1] = await c.find('VirtualMachine', '/DC0/vm/DC0_H0_VM1');
    await c.tags.attach('zone/us-east-1a', [vm0!, vm1!]);

    expect(await govmomi(h.info, 'objects', '-tag', east.id)).toEqual([
      { type: 'VirtualMachine', value: vm0!.value },
      { type: 'VirtualMachine', value: vm1!.value },
    ].sort((a, b) => a.value.localeCompare(b.value)));
    expect(await govmomi(h.info, 'tags-of', '-object', `VirtualMachine:${vm0!.value}`)).toEqual([{ id: east.id, name: 'us-east-1a', categoryId: zone.id }]);

    await c.tags.detach(east.id, [vm1!]);
    expect(await govmomi(h.info, 'objects', '-tag', 'us-east-1a')).toEqual([{ type: 'VirtualMachine', value: vm0!.value }]);
    expect(await govmomi(h.info, 'tags-of', '-object', `VirtualMachine:${vm1!.value}`)).toEqual([]);
  });

  it('a tag govmomi makes and attaches is what our client reads, and finds objects by', async () => {
    const h = await startHarness();
    const c = await loggedIn(h);
    const [host] = await c.find('HostSystem', 'DC0_H0');
    const [vm] = await c.find('VirtualMachine', '/DC0/vm/DC0_C0_RP0_VM0');
    const made = await govmomi<{ categoryId: string; tagId: string }>(h.info, 'create', '-category', 'owner', '-tag', 'alice');
    await govmomi(h.info, 'attach', '-tag', made.tagId, '-object', `HostSystem:${host!.value}`, '-object', `VirtualMachine:${vm!.value}`);

    expect((await c.tags.categories()).map((x) => [x.id, x.name])).toEqual([[made.categoryId, 'owner']]);
    expect(await c.tags.tag('owner/alice')).toMatchObject({ id: made.tagId, name: 'alice', category_id: made.categoryId });
    const [objects] = await c.tags.objects(['owner/alice']);
    expect(objects!.objects.map((o) => `${o.type}:${o.value}`).sort()).toEqual([`HostSystem:${host!.value}`, `VirtualMachine:${vm!.value}`].sort());
    expect(await c.tags.of([vm!, host!])).toEqual([
      { ref: vm, object: vm, tagIds: [made.tagId], tags: [expect.objectContaining({ id: made.tagId, name: 'alice', categoryId: made.categoryId })] },
      { ref: host, object: host, tagIds: [made.tagId], tags: [expect.objectContaining({ id: made.tagId, name: 'alice', categoryId: made.categoryId })] },
    ]);
    expect(await c.find('VirtualMachine', '...', { tag: 'owner/alice' })).toEqual([vm]);
    expect(await c.find('HostSystem', '...', { tag: made.tagId })).toEqual([host]);

    // And back: our client detaches govmomi's tag, govmomi sees it gone.
    await c.tags.detach('owner/alice', [host!]);
    expect(await govmomi(h.info, 'objects', '-tag', made.tagId)).toEqual([{ type: 'VirtualMachine', value: vm!.value }]);
  });
});
