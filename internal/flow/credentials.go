// Credential changes: one store transaction for a change to how an
// account signs in or is recovered and everything that goes with it.
package flow

import (
	"context"
	"slices"
	"strings"

	"github.com/portvakt/portvakt/internal/store"
)

// Composer is a Mailer that can render a mail without queueing it
// (notify.Mailer), so that the notice of a security change is queued in
// the change's own transaction: the owner is told exactly when the change
// happened. A Mailer that is not one sends its notices after the change.
type Composer interface {
	Compose(to, lang, template string, data map[string]any) (store.Message, error)
	// Queued starts delivery of what was queued.
	Queued()
}

// notice is a security mail that goes with a change.
type notice struct {
	template string
	extra    map[string]any
	// also are addresses told besides the account's verified ones (an
	// address being removed, one being added).
	also []string
}

// secure applies a change to how acct signs in or is recovered in one
// transaction (store.SecurityChange): the change, the end of every other
// session (ch.Keep stays) with a back-channel logout queued for each of
// their apps, every remembered browser, the second steps under way and
// ch.DropFlows, every app token of the account, and the notices, mailed
// to every verified address of the account (as it is before the change)
// and to each notice's also. A notice that cannot be rendered fails the
// change: a change the owner is not told of does not happen.
func (s *Service) secure(ctx context.Context, c Client, acct store.Account, ch store.SecurityChange, notices ...notice) (store.SecurityResult, error) {
	ch.AccountID = acct.ID
	ch.At = s.now()
	if !slices.Contains(ch.DropFlows, FlowMFA) {
		// A second step someone began with the old credential must not
		// finish now.
		ch.DropFlows = append(ch.DropFlows, FlowMFA)
	}
	type mail struct {
		to, template string
		data         map[string]any
	}
	var mails []mail
	if len(notices) > 0 {
		emails, err := s.Store.ListEmails(ctx, acct.ID)
		if err != nil {
			return store.SecurityResult{}, err
		}
		var verified []string
		for _, e := range emails {
			if !e.VerifiedAt.IsZero() {
				verified = append(verified, e.Address)
			}
		}
		for _, n := range notices {
			data := s.requestFacts(c)
			data["name"] = acct.Name
			data["recover_url"] = s.link("/recover")
			for k, v := range n.extra {
				data[k] = v
			}
			delete(data, auditKindKey)
			to := slices.Clone(verified)
			for _, a := range n.also {
				if !slices.ContainsFunc(to, func(v string) bool { return strings.EqualFold(v, a) }) {
					to = append(to, a)
				}
			}
			for _, addr := range to {
				mails = append(mails, mail{addr, n.template, data})
			}
		}
	}
	composer, compose := s.Mailer.(Composer)
	if compose {
		for _, m := range mails {
			msg, err := composer.Compose(m.to, s.lang(acct, c), m.template, m.data)
			if err != nil {
				return store.SecurityResult{}, err
			}
			ch.Messages = append(ch.Messages, msg)
		}
	}
	res, err := s.Store.ChangeSecurity(ctx, ch)
	if err != nil {
		return res, err
	}
	for _, n := range notices {
		s.recordNotice(ctx, acct, n.template, n.extra, &ch)
	}
	if compose {
		if len(ch.Messages) > 0 || res.Logouts > 0 {
			// The worker delivers back-channel logouts too.
			composer.Queued()
		}
		return res, nil
	}
	for _, m := range mails {
		if err := s.Mailer.Send(ctx, m.to, s.lang(acct, c), m.template, m.data); err != nil {
			s.log().Error("security mail not queued", "template", m.template, "account", acct.ID, "err", err)
		}
	}
	return res, nil
}

// contain is what every change to how the account signs in or is
// recovered does besides the change itself, for a change already made:
// the account's other sessions end (this one, if any, stays), every
// remembered browser is forgotten, second steps under way are dropped and
// every app token is revoked, so that an intruder's foothold does not
// outlive the owner's fix. Changes that can, pass their change to secure
// instead, so that it and all this happen in one transaction.
func (s *Service) contain(ctx context.Context, who Who) error {
	_, err := s.secure(ctx, Client{}, who.Account, store.SecurityChange{Keep: who.Session.ID})
	return err
}
