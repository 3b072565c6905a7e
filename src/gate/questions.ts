// The gate answering rsync-time-backup's questions about a source path:
// `test -e PATH` (exit 0 or 1, nothing on stdout) and `df -T PATH` (df's
// table on stdout). A chunk of its own (scripts/build.mjs), loaded only when
// a command starts with "test " or "df ", so the rsync path never parses it.
// Decided as a pull of that path (decide.ts: from, window, a policy that may
// send, the path confined to root); the I/O is here: /proc/self/mountinfo
// and statfs(2) of the path's canonical location. Nothing runs.
import { readFileSync, statfsSync } from 'node:fs';
import type { Session } from '../session.js';
import type { Policy } from '../policy/schema.js';
import { decidePathQuestion, type Facts } from '../decide.js';
import { tokenize } from '../shell/tokenize.js';
import { formatDf, mountOf, parseMountinfo, parseQuestion, questionName } from '../questions/parse.js';
import { EX_CONFIG, EX_NOPERM } from '../exit.js';

export type QuestionAnswer =
  | { verdict: 'answer'; question: string; stdout: string; stderr: string; code: number; reason: string; wouldDeny?: string }
  | { verdict: 'deny'; code: string; status: number; reason: string };

/** The answer to SSH_ORIGINAL_COMMAND when it is one of the questions, or null when it is not (it is then decided as usual). */
export function answerQuestion(session: Session, policy: Policy, facts: Facts): QuestionAnswer | null {
  const command = session.originalCommand;
  if (command === null) return null;
  const t = tokenize(command);
  if (!t.ok) return null;
  const q = parseQuestion(t.words);
  if (!q) return null;
  const name = questionName(q);
  const d = decidePathQuestion(session, q.path, name, policy, facts);
  if (d.verdict === 'deny') return { verdict: 'deny', code: d.code, status: d.code === 'config' ? EX_CONFIG : EX_NOPERM, reason: d.reason };
  const waived = d.waived.length ? { wouldDeny: d.waived.map((r) => r.reason).join('; ') } : {};
  if (q.kind === 'test-e') {
    return { verdict: 'answer', question: q.kind, stdout: '', stderr: '', code: d.exists ? 0 : 1, reason: `${d.reason}: ${d.real} ${d.exists ? 'exists' : 'does not exist'}`, ...waived };
  }
  if (!d.exists) {
    // GNU df's own words and status for a missing path.
    return { verdict: 'answer', question: q.kind, stdout: '', stderr: `df: '${q.path}': No such file or directory\n`, code: 1, reason: `${d.reason}: ${d.real} does not exist`, ...waived };
  }
  const mount = mountOf(d.real, parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')));
  if (!mount) return { verdict: 'answer', question: q.kind, stdout: '', stderr: `df: '${q.path}': no mount found in /proc/self/mountinfo\n`, code: 1, reason: `${d.reason}: no mount holds ${d.real}`, ...waived };
  const s = statfsSync(d.real);
  const stdout = formatDf(mount, { bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail });
  return { verdict: 'answer', question: q.kind, stdout, stderr: '', code: 0, reason: `${d.reason}: ${d.real} is on ${mount.mountPoint} (${mount.fstype})`, ...waived };
}
