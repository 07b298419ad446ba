import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { repoPath } from '../helpers/paths.js';

const BIN = repoPath('dist', 'viommu-system.js');

/** A line-oriented QMP client over a unix socket. */
class Client {
  private buf = '';
  private waiters: ((l: string) => void)[] = [];
  private lines: string[] = [];
  constructor(private readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      let i;
      while ((i = this.buf.indexOf('\r\n')) >= 0) {
        const l = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        const w = this.waiters.shift();
        if (w) w(l);
        else this.lines.push(l);
      }
    });
  }
  static connect(path: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s = createConnection(path, () => resolve(new Client(s)));
      s.once('error', reject);
    });
  }
  next(): Promise<string> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    return new Promise((r) => this.waiters.push(r));
  }
  async cmd(text: string): Promise<string> {
    this.sock.write(text + '\n');
    return this.next();
  }
  close(): Promise<void> {
    return new Promise((r) => {
      this.sock.once('close', () => r());
      this.sock.end();
    });
  }
}

async function waitFor(path: string): Promise<void> {
  for (let i = 0; i < 200 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 25));
}

t.test('-qmp unix:PATH,server=on,wait=off serves clients one after another until quit', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'viommu-qmp-'));
  const path = join(dir, 'qmp.sock');
  const child = spawn(process.execPath, [BIN, '-M', 'q35', '-nodefaults', '-display', 'none', '-qmp', `unix:${path},server=on,wait=off`,
    '-device', 'pcie-root-port,id=rp1,chassis=1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  await waitFor(path);

  const a = await Client.connect(path);
  t.match(await a.next(), /^\{"QMP": \{"version": \{"qemu": \{"micro": \d+, "minor": \d+, "major": \d+\}, "package": "viommu/);
  t.equal(await a.cmd('{"execute": "qmp_capabilities"}'), '{"return": {}}');
  t.equal(await a.cmd('{"execute": "query-status", "id": "s1"}'), '{"return": {"status": "running", "singlestep": false, "running": true}, "id": "s1"}');
  t.equal(await a.cmd('garbage'), '{"error": {"class": "GenericError", "desc": "JSON parse error, invalid keyword \'garbage\'"}}');
  t.equal(await a.cmd('{"execute": "device_add", "arguments": {"driver": "edu", "id": "e1", "bus": "rp1"}}'), '{"return": {}}');
  await a.close();

  const b = await Client.connect(path);
  t.match(await b.next(), /^\{"QMP"/, 'a second client gets its own greeting');
  t.equal(await b.cmd('{"execute": "query-status"}'),
    '{"error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with \'qmp_capabilities\'"}}', 'and negotiates again');
  t.equal(await b.cmd('{"execute": "qmp_capabilities"}'), '{"return": {}}');
  const qtree = JSON.parse(await b.cmd('{"execute": "human-monitor-command", "arguments": {"command-line": "info qtree"}}'));
  t.match(qtree.return, /dev: edu, id "e1"/, 'state persists across clients');
  t.match(await b.cmd('{"execute": "quit"}'), /"event": "SHUTDOWN", "data": \{"guest": false, "reason": "host-qmp-quit"\}/);
  t.equal(await b.next(), '{"return": {}}');
  t.equal(await exited, 0, 'quit ends the process with status 0');
});
