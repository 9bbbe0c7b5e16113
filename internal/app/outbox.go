package app

import (
	"github.com/portvakt/portvakt/internal/notify"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
)

// sealedOutbox is the outbox every sender and the worker use: subjects and
// bodies (codes, links) sealed at rest, and blanked once delivered unless
// the transport is the dev one, whose mail the dev mailbox reads after
// delivery (issue 10, finding 8).
func sealedOutbox(db *sqlstore.DB, sealer *secret.Sealer, transport notify.Transport) notify.SealedOutbox {
	out := notify.SealedOutbox{Outbox: db, Sealer: sealer, Forget: db.ForgetMessage}
	if _, dev := transport.(notify.Dev); dev {
		out.Forget = nil
	}
	return out
}
