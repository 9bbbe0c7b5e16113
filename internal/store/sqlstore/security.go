package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/portvakt/portvakt/internal/store"
)

var _ store.Security = (*DB)(nil)

// ChangeSecurity applies c in one transaction (see store.SecurityChange):
// the change, the end of the other sessions with a back-channel logout
// message for each of their apps, the remembered browsers, the dropped
// flows, the revoked app grants and the queued messages. The account row
// is locked first (FOR UPDATE on PostgreSQL, the write lock on SQLite), so
// two changes to one account take turns. FlowUpdate's error comes back as
// it is; every other error is wrapped and nothing is written.
func (db *DB) ChangeSecurity(ctx context.Context, c store.SecurityChange) (store.SecurityResult, error) {
	var res store.SecurityResult
	err := db.inTx(ctx, func(tx conn) error {
		var r store.SecurityResult
		err := changeSecurity(ctx, tx, db.d, c, &r)
		if err == nil {
			res = r
		}
		return err
	})
	if ue, ok := errors.AsType[updaterError](err); ok {
		return store.SecurityResult{}, ue.err
	}
	if err != nil {
		return store.SecurityResult{}, fmt.Errorf("sqlstore: change security of %q: %w", c.AccountID, err)
	}
	if c.Flow != "" {
		res.Flow = readBackFlow(res.Flow)
	}
	return res, nil
}

// changeSecurity is ChangeSecurity's body, inside the transaction.
func changeSecurity(ctx context.Context, tx conn, d *dialect, c store.SecurityChange, res *store.SecurityResult) error {
	if c.AccountID == "" {
		return errors.New("no account")
	}
	var id string
	err := tx.queryRow(ctx, "SELECT id FROM accounts WHERE id = ?"+d.forUpdate, c.AccountID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return err
	}

	// The change itself.
	if c.Flow != "" {
		f, err := getFlow(ctx, tx, "id = ?"+d.forUpdate, c.Flow)
		if err != nil {
			return fmt.Errorf("flow %q: %w", c.Flow, err)
		}
		if f.AccountID != c.AccountID {
			return fmt.Errorf("flow %q: %w", c.Flow, store.ErrNotFound)
		}
		if c.FlowUpdate != nil {
			if f, err = c.FlowUpdate(f); err != nil {
				return updaterError{err}
			}
		}
		if err := putFlow(ctx, tx, c.Flow, f); err != nil {
			return fmt.Errorf("flow %q: %w", c.Flow, err)
		}
		res.Flow = f
	}
	if c.Password != nil {
		p := *c.Password
		if p.AccountID != c.AccountID {
			return fmt.Errorf("password is for account %q", p.AccountID)
		}
		if err := upsertPassword(ctx, tx, p); err != nil {
			return fmt.Errorf("password: %w", err)
		}
	}
	if c.AddEmail != nil {
		e := *c.AddEmail
		if e.AccountID != c.AccountID {
			return fmt.Errorf("email %q is for account %q", e.Address, e.AccountID)
		}
		if err := insertEmail(ctx, tx, e); err != nil {
			return fmt.Errorf("add email %q: %w", e.Address, err)
		}
	}
	if c.PrimaryEmail != "" {
		if err := setPrimaryEmail(ctx, tx, d, c.AccountID, c.PrimaryEmail); err != nil {
			return fmt.Errorf("primary email %q: %w", c.PrimaryEmail, err)
		}
	}
	if c.DeleteEmail != "" {
		if err := tx.execOne(ctx, "DELETE FROM emails WHERE account_id = ? AND address_key = ?",
			c.AccountID, emailKey(c.DeleteEmail)); err != nil {
			return fmt.Errorf("delete email %q: %w", c.DeleteEmail, err)
		}
	}

	// The other sessions end; their apps hear of it.
	ended, err := queryAll(ctx, tx, func(r rowScanner) (string, error) {
		var s string
		return s, r.Scan(&s)
	}, "SELECT id FROM sessions WHERE account_id = ? AND id <> ? ORDER BY id", c.AccountID, c.Keep)
	if err != nil {
		return fmt.Errorf("list sessions: %w", err)
	}
	res.Ended = ended
	if len(ended) > 0 {
		type target struct{ client, subject, session string }
		grants, err := queryAll(ctx, tx, func(r rowScanner) (target, error) {
			var t target
			return t, r.Scan(&t.client, &t.subject, &t.session)
		}, "SELECT DISTINCT client_id, account_id, session_id FROM oidc_grants WHERE account_id = ? AND session_id <> ?"+
			" ORDER BY session_id, client_id", c.AccountID, c.Keep)
		if err != nil {
			return fmt.Errorf("list grants: %w", err)
		}
		for _, g := range grants {
			if !slices.Contains(ended, g.session) {
				continue
			}
			body, err := json.Marshal(store.Logout{Subject: g.subject, SessionID: g.session})
			if err != nil {
				return err
			}
			m := store.Message{
				ID: strings.ToLower(rand.Text()), Channel: store.ChannelLogout, To: g.client, Text: string(body),
				CreatedAt: c.At, NextAttemptAt: c.At,
			}
			if err := insertMessage(ctx, tx, m); err != nil {
				return fmt.Errorf("queue back-channel logout: %w", err)
			}
			res.Logouts++
		}
		if _, err := tx.exec(ctx, "DELETE FROM sessions WHERE account_id = ? AND id <> ?", c.AccountID, c.Keep); err != nil {
			return fmt.Errorf("delete sessions: %w", err)
		}
	}

	// Remembered browsers, flows under way, app grants.
	if _, err := tx.exec(ctx, "DELETE FROM trusted_browsers WHERE account_id = ?", c.AccountID); err != nil {
		return fmt.Errorf("delete trusted browsers: %w", err)
	}
	if len(c.DropFlows) > 0 {
		args := []any{c.AccountID, c.Flow}
		for _, k := range c.DropFlows {
			args = append(args, k)
		}
		if _, err := tx.exec(ctx, "DELETE FROM flows WHERE account_id = ? AND id <> ? AND kind IN ("+
			placeholders(len(c.DropFlows))+")", args...); err != nil {
			return fmt.Errorf("delete flows: %w", err)
		}
	}
	n, err := tx.execCount(ctx, "UPDATE oidc_grants SET revoked_at = ? WHERE account_id = ? AND revoked_at = ?",
		millis(c.At), c.AccountID, zeroTime)
	if err != nil {
		return fmt.Errorf("revoke grants: %w", err)
	}
	res.Revoked = n

	// The notices.
	for _, m := range c.Messages {
		if err := insertMessage(ctx, tx, m); err != nil {
			return fmt.Errorf("queue message %q: %w", m.ID, err)
		}
	}
	return nil
}
