package app

import (
	"context"

	"github.com/portvakt/portvakt/internal/notify"
	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/store"
)

// logoutRouter is the outbox worker's transport: back-channel logout
// messages (store.ChannelLogout, queued by a credential change's
// transaction or a sign-out) go to the OpenID Provider, which signs a
// logout token and posts it to the app, and everything else to the mail
// transport. Both are retried with the worker's backoff.
type logoutRouter struct {
	next notify.Transport
	// op is nil when OIDC is off: there is no app to tell, and a logout
	// queued before it was turned off is dropped.
	op *op.Provider
}

func (r logoutRouter) Deliver(ctx context.Context, m store.Message) error {
	if m.Channel == store.ChannelLogout {
		if r.op == nil {
			return nil
		}
		return r.op.DeliverLogout(ctx, m)
	}
	return r.next.Deliver(ctx, m)
}
