package sqlstore

import (
	"context"
	"fmt"

	"github.com/portvakt/portvakt/internal/store"
)

var _ store.Registrar = (*DB)(nil)

// Register inserts the account, its emails and, when pw is not nil, its
// password in one transaction. The error wraps store.ErrConflict, and
// nothing is written, if the account ID, the username or any address is
// taken, or if emails repeat an address or hold more than one primary.
//
// An email or password with an empty AccountID belongs to a; one naming
// another account is refused with a plain error, writing nothing.
func (db *DB) Register(ctx context.Context, a store.Account, emails []store.Email, pw *store.Password) error {
	err := db.inTx(ctx, func(c conn) error {
		for _, e := range emails {
			if e.AccountID != "" && e.AccountID != a.ID {
				return fmt.Errorf("email %q is for account %q", e.Address, e.AccountID)
			}
		}
		if pw != nil && pw.AccountID != "" && pw.AccountID != a.ID {
			return fmt.Errorf("password is for account %q", pw.AccountID)
		}
		if err := insertAccount(ctx, c, a); err != nil {
			return err
		}
		for _, e := range emails {
			e.AccountID = a.ID
			if err := insertEmail(ctx, c, e); err != nil {
				return fmt.Errorf("email %q: %w", e.Address, err)
			}
		}
		if pw != nil {
			p := *pw
			p.AccountID = a.ID
			if err := upsertPassword(ctx, c, p); err != nil {
				return fmt.Errorf("password: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlstore: register account %q: %w", a.ID, err)
	}
	return nil
}
