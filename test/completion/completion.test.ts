// `gatekeeper completion bash|zsh`, exercised by the shells themselves: bash
// loads the script (complete -p must name its function) and the function is
// called with COMP_WORDS/COMP_CWORD as bash-completion would; zsh gets the
// script as _gatekeeper in fpath, runs compinit and completes a typed line
// with TAB in an interactive shell (zpty, test/completion/drive.zsh).
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProgram } from '../../src/cli.js';
import { completionScript } from '../../src/completion/index.js';
import { REPO } from '../helpers/gate.js';

let dir: string;
let policies: string;
let bashFile: string;
let zshDir: string;
let fishFile: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gk-completion-'));
  policies = join(dir, 'policies');
  mkdirSync(policies);
  for (const f of ['nightly-backup.yaml', 'web-restore.yml', 'db.json', 'notes.txt']) writeFileSync(join(policies, f), '{}\n');
  mkdirSync(join(policies, 'sub.yaml')); // a directory is no policy
  bashFile = join(dir, 'gatekeeper.bash');
  writeFileSync(bashFile, completionScript(buildProgram(), 'bash')!);
  zshDir = join(dir, 'zsh');
  mkdirSync(zshDir);
  writeFileSync(join(zshDir, '_gatekeeper'), completionScript(buildProgram(), 'zsh')!);
  fishFile = join(dir, 'gatekeeper.fish');
  writeFileSync(fishFile, completionScript(buildProgram(), 'fish')!);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** COMPREPLY for the words typed so far; the last word is the one being completed. */
function bash(...words: string[]): string[] {
  const out = execFileSync(
    'bash',
    ['--norc', '--noprofile', '-c', 'source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _gatekeeper; printf "%s\\n" "${COMPREPLY[@]}"', bashFile, 'gatekeeper', ...words],
    { cwd: dir, encoding: 'utf8' },
  );
  return out.split('\n').filter(Boolean).sort();
}

describe('bash', () => {
  it('complete -p names the generated function for gatekeeper', () => {
    const out = execFileSync('bash', ['--norc', '--noprofile', '-c', 'source "$0" && complete -p gatekeeper', bashFile], { encoding: 'utf8' });
    expect(out.trim()).toBe('complete -F _gatekeeper gatekeeper');
  });
  it('the first word completes to every command of the tree, completion included', () => {
    // Every command the tree has (commands added later included), and at least these.
    const tree = buildProgram().commands.map((c) => c.name()).sort();
    expect(tree).toEqual(expect.arrayContaining(['audit', 'check', 'completion', 'doctor', 'gate', 'install', 'keys', 'policy', 'probe', 'uninstall']));
    expect(bash('')).toEqual(tree);
    expect(bash('po')).toEqual(['policy']);
  });
  it('subcommands of a subcommand, after options of the parent', () => {
    expect(bash('policy', '')).toEqual(['options', 'schema', 'validate']);
    expect(bash('policy', 'validate', '--')).toEqual(['--help', '--no-trust', '--policy-dir']);
  });
  it("each command's own options, as commander defines them", () => {
    expect(bash('check', '--')).toEqual(['--at', '--client', '--help', '--json', '--policy', '--policy-dir', '--user']);
    expect(bash('--')).toEqual(['--help', '--version']);
    expect(bash('completion', '')).toEqual(['bash', 'fish', 'zsh']);
  });
  it('--policy completes to the policy names in --policy-dir (a directory listing), a path to files', () => {
    expect(bash('check', '--policy-dir', policies, '--policy', '')).toEqual(['db', 'nightly-backup', 'web-restore']);
    expect(bash('gate', '--policy-dir', policies, '--policy', 'n')).toEqual(['nightly-backup']);
    expect(bash('policy', 'validate', '--policy-dir', policies, 'w')).toEqual(['web-restore']);
    expect(bash('check', '--policy', `${policies}/ni`)).toEqual([`${policies}/nightly-backup.yaml`]);
  });
  it('after an option without a value, options again', () => {
    expect(bash('check', '--json', '--pol')).toEqual(['--policy', '--policy-dir']);
  });
  it('--*-dir completes directories; --host uses bash\'s own host names', () => {
    expect(bash('check', '--policy-dir', 'pol')).toEqual(['policies']);
    expect(bash('audit', '--host', 'localhos')).toContain('localhost');
  });
});

// A clean environment: the interactive zsh hangs on what vitest's puts there.
function zsh(line: string): string {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, TERM: 'dumb' };
  return execFileSync('zsh', ['-f', join(REPO, 'test/completion/drive.zsh'), zshDir, line], { cwd: dir, env, encoding: 'utf8', timeout: 30_000 }).trim();
}

describe('zsh (compinit, TAB in an interactive shell)', () => {
  it.each([
    ['gatekeeper au', 'gatekeeper audit'],
    ['gatekeeper policy va', 'gatekeeper policy validate'],
    ['gatekeeper check --js', 'gatekeeper check --json'],
    ['gatekeeper completion z', 'gatekeeper completion zsh'],
  ])('%s<TAB>', (typed, completed) => {
    expect(zsh(typed)).toBe(completed);
  });
  it('--policy completes to a policy name from --policy-dir', () => {
    expect(zsh(`gatekeeper check --policy-dir ${policies} --policy ni`)).toBe(`gatekeeper check --policy-dir ${policies} --policy nightly-backup`);
    expect(zsh(`gatekeeper policy validate --policy-dir ${policies} we`)).toBe(`gatekeeper policy validate --policy-dir ${policies} web-restore`);
  });
});

/** What fish's own `complete -C` offers for the line typed so far (the words only, without descriptions). */
function fish(line: string): string[] {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, TERM: 'dumb' };
  const out = execFileSync('fish', ['--no-config', '-c', 'source $argv[1]; complete -C $argv[2]', fishFile, line], { cwd: dir, env, encoding: 'utf8', timeout: 30_000 });
  return out.split('\n').filter(Boolean).map((l) => l.split('\t')[0]!).sort();
}

describe('fish (complete -C in a real fish)', () => {
  it('the first word completes to every command of the tree, with its description', () => {
    expect(fish('gatekeeper ')).toEqual(buildProgram().commands.map((c) => c.name()).sort());
    expect(fish('gatekeeper po')).toEqual(['policy']);
  });
  it('subcommands and their own options, after the options of the parent', () => {
    expect(fish('gatekeeper policy ')).toEqual(['options', 'schema', 'validate']);
    expect(fish('gatekeeper policy validate --')).toEqual(['--help', '--no-trust', '--policy-dir']);
    expect(fish(`gatekeeper check --policy-dir ${policies} --js`)).toEqual(['--json']);
    expect(fish('gatekeeper completion ')).toEqual(['bash', 'fish', 'zsh']);
  });
  it('--policy completes to the policy names in --policy-dir, a path to files', () => {
    expect(fish(`gatekeeper check --policy-dir ${policies} --policy `)).toEqual(['db', 'nightly-backup', 'web-restore']);
    expect(fish(`gatekeeper policy validate --policy-dir ${policies} w`)).toEqual(['web-restore']);
    expect(fish(`gatekeeper check --policy ${policies}/ni`)).toEqual([`${policies}/nightly-backup.yaml`]);
  });
});

describe('gatekeeper completion', () => {
  it('refuses a shell it has no script for (64), naming the ones it has', () => {
    const r = (() => {
      try {
        execFileSync(process.execPath, [join(REPO, 'dist/gatekeeper.mjs'), 'completion', 'tcsh'], { encoding: 'utf8', stdio: 'pipe' });
        return { status: 0, stderr: '' };
      } catch (e) {
        return e as { status: number; stderr: string };
      }
    })();
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/bash, zsh/);
  });
});
