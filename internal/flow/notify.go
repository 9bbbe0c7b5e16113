package flow

import (
	"context"
	"strings"

	"github.com/portvakt/portvakt/internal/authn/sms"
	"github.com/portvakt/portvakt/internal/store"
)

// Security mail: the notices an account gets about changes to how it signs
// in, and the masks that show an address or number without spelling it.

// notify mails every verified address of the account about a security
// event: an intruder who added an address of their own cannot keep the
// owner's other addresses from hearing of it.
func (s *Service) notify(ctx context.Context, c Client, acct store.Account, template string, extra map[string]any) {
	s.recordNotice(ctx, acct, template, extra, nil)
	emails, err := s.Store.ListEmails(ctx, acct.ID)
	if err != nil {
		s.log().Error("security mail not queued: addresses unreadable", "template", template, "account", acct.ID, "err", err)
		return
	}
	data := s.requestFacts(c)
	data["name"] = acct.Name
	data["recover_url"] = s.link("/recover")
	for k, v := range extra {
		data[k] = v
	}
	delete(data, auditKindKey)
	for _, e := range emails {
		if e.VerifiedAt.IsZero() {
			continue
		}
		if err := s.Mailer.Send(ctx, e.Address, s.lang(acct, c), template, data); err != nil {
			s.log().Error("security mail not queued", "template", template, "account", acct.ID, "err", err)
		}
	}
}

// MaskEmail shows enough of an address to recognise it and too little to
// harvest it: "ma…ge@sc…se" for "mariage@scb.se" (IDEP's style). See the
// table test for the rules.
func MaskEmail(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return maskPart(addr)
	}
	local, domain := addr[:at], addr[at+1:]
	return maskPart(local) + "@" + maskPart(domain)
}

// maskPart keeps the first two and last two characters of s (fewer for
// short strings) and puts "…" between.
func maskPart(s string) string {
	r := []rune(s)
	switch n := len(r); {
	case n <= 2:
		return string(r[:1]) + "…"
	case n <= 4:
		return string(r[:1]) + "…" + string(r[n-1:])
	default:
		return string(r[:2]) + "…" + string(r[n-2:])
	}
}

// MaskPhone shows a number as "+47 ••• •• 567".
func MaskPhone(e164 string) string { return sms.Mask(e164) }
