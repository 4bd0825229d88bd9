// The same consumer without the typed model: a connect and one call, what importing the package costs by itself.
import { VimClient } from 'vim25-soap';

export async function main(): Promise<void> {
  const client = await VimClient.connect('https://vc.example.com/sdk');
  console.log(await client.call('CurrentTime', client.ref('ServiceInstance', 'ServiceInstance')));
}
