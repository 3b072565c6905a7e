// Debian's Chromium, headless, as the judge of the HTML report: the DOM it
// built (--dump-dom), a screenshot, a PDF. Each run has a throwaway profile
// and no way out: host names resolve to nothing, background services are
// off; only 127.0.0.1 is reachable. A loopback listener (`listen`) sees any request a page still makes to
// an IP literal, so a test can prove that none left.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const CHROMIUM = '/usr/bin/chromium';

export interface ChromiumRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Chromium on a local file, headless, with `args` (e.g. --dump-dom, --screenshot=FILE). */
export function chromium(file: string, args: readonly string[]): Promise<ChromiumRun> {
  const profile = mkdtempSync(join(tmpdir(), 'gk-chromium-'));
  const argv = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    `--user-data-dir=${profile}`,
    // No name resolves and no proxy is used; 127.0.0.1 stays reachable, so a
    // loopback listener sees any request a page makes (`listen`).
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    '--no-proxy-server',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-domain-reliability',
    '--no-pings',
    '--enable-logging=stderr',
    '--v=0',
    ...args,
    pathToFileURL(file).href,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(CHROMIUM, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      rmSync(profile, { recursive: true, force: true });
      resolve({ status, stdout, stderr });
    });
  });
}

/** An HTTP listener on 127.0.0.1 that counts what reaches it. */
export async function listen(): Promise<{ port: number; hits: string[]; close: () => Promise<void> }> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.end('');
  });
  // A connection that never sends a whole request counts too.
  server.on('connection', () => void hits.push('(connection)'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { port, hits, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** An element of the DOM Chromium serialized. */
export interface El {
  tag: string;
  attrs: Record<string, string>;
  children: (El | string)[];
}

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);
const RAW = new Set(['style', 'script', 'textarea', 'title']);
const decode = (s: string) =>
  s.replace(/&(lt|gt|amp|quot|nbsp|#39|#x([0-9a-f]+)|#(\d+));/gi, (_m, name: string, hex?: string, dec?: string) =>
    hex ? String.fromCodePoint(parseInt(hex, 16)) : dec ? String.fromCodePoint(Number(dec)) : ({ lt: '<', gt: '>', amp: '&', quot: '"', nbsp: '\u00a0', '#39': "'" } as Record<string, string>)[name.toLowerCase()]!,
  );

/**
 * Parses Chromium's own serialization (--dump-dom): attributes always in
 * double quotes, text escaped, void elements without end tags. Not a general
 * HTML parser; it fails loudly on what it does not expect.
 */
export function parseDom(text: string): El {
  const root: El = { tag: '#root', attrs: {}, children: [] };
  const stack: El[] = [root];
  let i = 0;
  const top = () => stack[stack.length - 1]!;
  while (i < text.length) {
    if (text.startsWith('<!--', i)) {
      i = text.indexOf('-->', i) + 3;
      continue;
    }
    if (text.startsWith('<!', i)) {
      i = text.indexOf('>', i) + 1;
      continue;
    }
    if (text.startsWith('</', i)) {
      const end = text.indexOf('>', i);
      const tag = text.slice(i + 2, end).trim().toLowerCase();
      const at = stack.map((e) => e.tag).lastIndexOf(tag);
      if (at <= 0) throw new Error(`unexpected </${tag}> at ${i}`);
      stack.length = at;
      i = end + 1;
      continue;
    }
    if (text[i] === '<' && /[a-zA-Z]/.test(text[i + 1] ?? '')) {
      const m = /^<([a-zA-Z][\w-]*)((?:\s+[^\s=>"'/]+(?:="[^"]*")?)*)\s*\/?>/.exec(text.slice(i));
      if (!m) throw new Error(`cannot read the tag at ${i}: ${text.slice(i, i + 80)}`);
      const el: El = { tag: m[1]!.toLowerCase(), attrs: {}, children: [] };
      for (const a of m[2]!.matchAll(/\s+([^\s=>"'/]+)(?:="([^"]*)")?/g)) el.attrs[a[1]!.toLowerCase()] = decode(a[2] ?? '');
      top().children.push(el);
      i += m[0].length;
      if (RAW.has(el.tag)) {
        const end = text.toLowerCase().indexOf(`</${el.tag}>`, i);
        el.children.push(el.tag === 'style' || el.tag === 'script' ? text.slice(i, end) : decode(text.slice(i, end)));
        i = end + el.tag.length + 3;
      } else if (!VOID.has(el.tag)) stack.push(el);
      continue;
    }
    const next = text.indexOf('<', i + 1);
    const end = next === -1 ? text.length : next;
    top().children.push(decode(text.slice(i, end)));
    i = end;
  }
  return root;
}

export function all(el: El, pred: (e: El) => boolean, out: El[] = []): El[] {
  for (const c of el.children) {
    if (typeof c === 'string') continue;
    if (pred(c)) out.push(c);
    all(c, pred, out);
  }
  return out;
}

export const textOf = (el: El): string => el.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
