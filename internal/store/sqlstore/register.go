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
	if err := db.inTx(ctx, func(c conn) error { return register(ctx, c, a, emails, pw) }); err != nil {
		return fmt.Errorf("sqlstore: register account %q: %w", a.ID, err)
	}
	return nil
}

// RegisterFromFlow locks the flow (SELECT … FOR UPDATE on PostgreSQL, the
// write lock on SQLite), runs fn on it, writes the result and registers
// the account, all in one transaction: either the flow is consumed and
// the account exists, or neither. fn's error comes back as it is.
func (db *DB) RegisterFromFlow(ctx context.Context, flowID string, fn func(store.Flow) (store.Flow, error),
	a store.Account, emails []store.Email, pw *store.Password) (store.Flow, error) {
	f, err := update(ctx, db, "flow", flowID,
		func(c conn) (store.Flow, error) {
			return getFlow(ctx, c, "id = ?"+db.d.forUpdate, flowID)
		},
		fn,
		func(c conn, f store.Flow) error {
			if err := putFlow(ctx, c, flowID, f); err != nil {
				return err
			}
			if err := register(ctx, c, a, emails, pw); err != nil {
				return fmt.Errorf("register account %q: %w", a.ID, err)
			}
			return nil
		})
	if err != nil {
		return store.Flow{}, err
	}
	return readBackFlow(f), nil
}

// register is Register's body, inside a transaction.
func register(ctx context.Context, c conn, a store.Account, emails []store.Email, pw *store.Password) error {
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
}
