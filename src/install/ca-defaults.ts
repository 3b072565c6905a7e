// install --ca's default paths: shared by the command definitions (help
// text) and the implementation, without loading the latter.
export const CA_DEFAULTS = {
  /** sshd's TrustedUserCAKeys: the CAs gatekeeper installed, one per line. */
  caFile: '/etc/ssh/gatekeeper_user_ca.pub',
  /** sshd's AuthorizedPrincipalsFile DIR/%u: one principals file per user (root's is DIR/root). */
  principalsDir: '/etc/ssh/gatekeeper_principals',
};
