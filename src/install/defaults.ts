// install's and uninstall's default paths: shared by the command definitions
// (help text) and the implementations, without loading the latter.
export const DEFAULTS = {
  user: 'root',
  sshdConfig: '/etc/ssh/sshd_config',
  prefix: '/usr/local',
  configDir: '/etc/gatekeeper',
  sshd: '/usr/sbin/sshd',
  logrotateDir: '/etc/logrotate.d',
  logrotate: '/usr/sbin/logrotate',
};
