package flow

import (
	"context"
	"strconv"
	"strings"

	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/store"
)

// The audit log's seams in the flows (issue 15). A few central places
// record, so that a new flow cannot forget to:
//
//   - openSessionVia: every sign-in that becomes a session (login.succeeded);
//   - upgradeSession: a step-up or re-authentication;
//   - failed: every wrong password or code counted by the throttle
//     (login.failed), and an account locking after consecutive failures;
//   - secure and notify: every change to how an account signs in or is
//     recovered, which always tells the owner, recorded by the notice's
//     template (noticeKinds);
//   - account creation (sign-up, operator, first federated sign-in).

// auditKindKey, set in a notice's extra data, names the audit kind where
// the template alone does not tell it (a linked identity is mailed as a
// "factor added"). notify removes it before the mail is rendered.
const auditKindKey = "audit_kind"

// noticeKinds maps a security notice's mail template to the audit kind it
// reports. A template not listed is not recorded here (new-device and
// deletion mails: their flows record their own events).
var noticeKinds = map[string]audit.Kind{
	"password_changed":      audit.PasswordChanged,
	"factor_added":          audit.FactorAdded,
	"factor_removed":        audit.FactorRemoved,
	"email_removed":         audit.EmailRemoved,
	"email_primary_changed": audit.EmailPrimary,
	"recovery_codes_new":    audit.RecoveryCodesNew,
	"account_locked":        audit.AccountLocked,
}

// record writes e to the audit log; a failure is logged, never the
// user's problem (the action already happened).
func (s *Service) record(ctx context.Context, e audit.Event) {
	if err := s.Audit.Record(ctx, e); err != nil {
		s.log().Error("audit event not recorded", "kind", e.Kind, "subject", e.Subject, "err", err)
	}
}

// recordNotice records the change a security notice tells of. ch, when
// not nil, is the change secure made, which says more than the template.
func (s *Service) recordNotice(ctx context.Context, acct store.Account, template string, extra map[string]any, ch *store.SecurityChange) {
	kind, ok := noticeKinds[template]
	if k, set := extra[auditKindKey].(audit.Kind); set {
		if k == noAudit {
			return
		}
		kind, ok = k, true
	}
	if !ok {
		return
	}
	e := audit.Event{Kind: kind, Actor: audit.Account(acct.ID), Subject: acct.ID}
	if f, ok := extra["factor"].(string); ok {
		e.Target = maskTarget(f)
	}
	switch {
	case kind == audit.AccountLocked:
		e.Actor = audit.System("throttle")
		e.Reason = "consecutive failed sign-ins"
		if n, ok := extra["failures"].(int); ok {
			e.Data = map[string]string{"failures": strconv.Itoa(n)}
		}
	case kind == audit.EmailPrimary:
		if a, ok := extra["new_email"].(string); ok {
			e.Target = MaskEmail(a)
		}
	case ch != nil && ch.AddEmail != nil:
		e.Kind, e.Target = audit.EmailAdded, MaskEmail(ch.AddEmail.Address)
	case ch != nil && ch.DeleteEmail != "":
		e.Target = MaskEmail(ch.DeleteEmail)
	case kind == audit.PasswordChanged && ch != nil && ch.Keep == "":
		// A change without a session to keep is a reset (recovery).
		e.Kind = audit.PasswordReset
	}
	s.record(ctx, e)
}

// maskTarget masks an address named as a factor; anything else (a key's
// name, a masked number) is kept for the recorder's own masking.
func maskTarget(s string) string {
	if strings.Contains(s, "@") && !strings.Contains(s, "…") {
		return MaskEmail(s)
	}
	return s
}

// recordSignIn records a sign-in that became a session.
func (s *Service) recordSignIn(ctx context.Context, acct store.Account, sess store.Session, via store.Via) {
	data := map[string]string{"method": strings.Join(sess.Methods, " "), "level": strconv.Itoa(sess.Level), "session": sess.ID}
	if via.Upstream != "" {
		data["upstream"] = via.Upstream
	}
	s.record(ctx, audit.Event{Kind: audit.LoginSucceeded, Actor: audit.Account(acct.ID), Subject: acct.ID, Data: data})
}

// recordUpgrade records a step-up (replace false) or re-authentication.
func (s *Service) recordUpgrade(ctx context.Context, acct store.Account, sess store.Session, methods []authn.Method, replace bool) {
	kind := audit.StepUp
	if replace {
		kind = audit.Reauthenticated
	}
	s.record(ctx, audit.Event{Kind: kind, Actor: audit.Account(acct.ID), Subject: acct.ID,
		Data: map[string]string{"method": strings.Join(authn.Names(methods), " "), "level": strconv.Itoa(sess.Level), "session": sess.ID}})
}

// recordFailure records a refused secret (a wrong password or code);
// acct is nil when the identifier named no account.
func (s *Service) recordFailure(ctx context.Context, acct *store.Account, field string) {
	e := audit.Event{Kind: audit.LoginFailed, Outcome: audit.Denied, Data: map[string]string{"field": field}}
	if acct != nil {
		e.Subject = acct.ID
	}
	s.record(ctx, e)
}

// recordRefused records a right secret refused because the account is
// locked by support (Disabled).
func (s *Service) recordRefused(ctx context.Context, acct store.Account, why string) {
	s.record(ctx, audit.Event{Kind: audit.LoginFailed, Outcome: audit.Denied, Subject: acct.ID,
		Data: map[string]string{"refused": why}})
}

// recordCreated records a new account; by is who made it.
func (s *Service) recordCreated(ctx context.Context, acct store.Account, by audit.Actor, how string) {
	if by.Kind == "" {
		by = audit.Account(acct.ID)
	}
	s.record(ctx, audit.Event{Kind: audit.AccountCreated, Actor: by, Subject: acct.ID, Data: map[string]string{"via": how}})
}
