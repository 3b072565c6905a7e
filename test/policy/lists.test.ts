// The policy's lists: an empty "from" is a configuration error, not "any
// client"; an option name the table does not know, in options.allow or
// options.deny, is one too (a typo in deny would deny nothing, and decide
// relies on every listed name being known).
import { describe, expect, it } from 'vitest';
import { validatePolicy } from '../../src/policy/load.js';
import { policyRefusal } from '../helpers/policy.js';

const refusal = policyRefusal;

describe('from', () => {
  it('an empty list is refused (78) with how to allow any client', () => {
    const e = refusal({ from: [] });
    expect(e.exitCode).toBe(78);
    expect(e.message).toMatch(/from.*at least one address.*leave out "from"/s);
  });
  it('a list of addresses and prefixes is kept; no key means any client', () => {
    expect(validatePolicy({ from: ['192.0.2.10', '2001:db8::/32'] }, '/p.yaml').from).toEqual(['192.0.2.10', '2001:db8::/32']);
    expect(validatePolicy({}, '/p.yaml').from).toBeUndefined();
  });
  it('an entry that is no address is refused', () => {
    expect(refusal({ from: ['192.0.2.300'] }).message).toMatch(/IP addresses or CIDRs/);
  });
});

describe('options.allow and options.deny', () => {
  it.each([['allow', '--bwlimt'], ['deny', '--delete-afterr'], ['deny', 'z'], ['allow', '-Z']])('options.%s: %s is refused (78), naming it', (list, name) => {
    const e = refusal({ options: { [list]: ['--bwlimit', name] } });
    expect(e.exitCode).toBe(78);
    expect(e.message).toContain(`options.${list}: "${name}" is not an rsync server option`);
  });
  it('long and short spellings the table knows are kept', () => {
    const p = validatePolicy({ options: { allow: ['--bwlimit', '-z'], deny: ['-t', '--numeric-ids'] } }, '/p.yaml');
    expect(p.options).toEqual({ allow: ['--bwlimit', '-z'], deny: ['-t', '--numeric-ids'] });
  });
});
