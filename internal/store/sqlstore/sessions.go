package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/portvakt/portvakt/internal/store"
)

const sessionColumns = "id, token_hash, account_id, created_at, last_seen_at, expires_at, auth_time, amr, level, user_agent, ip, methods, via_upstream, via_acr, via_amr, full_auth_time, via_id_token, acting_for"

// CreateSession inserts s. The error wraps store.ErrConflict if s.ID or
// s.TokenHash is taken and store.ErrNotFound if s.AccountID names no
// account. AMR values must be non-empty and free of spaces (RFC 8176 values
// are), because the list is stored space-separated.
func (db *DB) CreateSession(ctx context.Context, s store.Session) error {
	lists, err := sessionLists(s)
	if err != nil {
		return fmt.Errorf("sqlstore: create session %q: %w", s.ID, err)
	}
	_, err = db.writer().exec(ctx,
		"INSERT INTO sessions ("+sessionColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		s.ID, s.TokenHash, s.AccountID, millis(s.CreatedAt), millis(s.LastSeenAt), millis(s.ExpiresAt),
		millis(s.AuthTime), lists.amr, s.Level, s.UserAgent, s.IP, lists.methods, s.Via.Upstream, s.Via.ACR, lists.viaAMR, millis(s.FullAuthTime), nilIfEmpty(s.Via.IDTokenSealed), s.ActingFor)
	if err != nil {
		return fmt.Errorf("sqlstore: create session %q: %w", s.ID, err)
	}
	return nil
}

// GetSessionByTokenHash returns the session whose token digest is
// tokenHash, or an error wrapping store.ErrNotFound. The digest is not put
// in the error.
func (db *DB) GetSessionByTokenHash(ctx context.Context, tokenHash []byte) (store.Session, error) {
	s, err := getSession(ctx, db.reader(), "token_hash = ?", tokenHash)
	if err != nil {
		return s, fmt.Errorf("sqlstore: get session by token hash: %w", err)
	}
	return s, nil
}

// GetSession returns the session with the given ID, or an error wrapping
// store.ErrNotFound.
func (db *DB) GetSession(ctx context.Context, id string) (store.Session, error) {
	s, err := getSession(ctx, db.reader(), "id = ?", id)
	if err != nil {
		return s, fmt.Errorf("sqlstore: get session %q: %w", id, err)
	}
	return s, nil
}

// UpdateSession has the semantics of UpdateAccount: one transaction that
// locks the row, fn's error returned as it is, an error wrapping
// store.ErrNotFound for a missing session and store.ErrConflict if the new
// TokenHash is taken. fn must not change the ID. Changing TokenHash rotates
// the session: the old digest no longer finds it.
func (db *DB) UpdateSession(ctx context.Context, id string, fn func(store.Session) (store.Session, error)) (store.Session, error) {
	s, err := update(ctx, db, "session", id,
		func(c conn) (store.Session, error) {
			return getSession(ctx, c, "id = ?"+db.d.forUpdate, id)
		},
		fn,
		func(c conn, s store.Session) error {
			if s.ID != id {
				return fmt.Errorf("updater changed the ID to %q", s.ID)
			}
			lists, err := sessionLists(s)
			if err != nil {
				return err
			}
			return c.execOne(ctx, `UPDATE sessions SET token_hash = ?, account_id = ?, created_at = ?, last_seen_at = ?,
				expires_at = ?, auth_time = ?, amr = ?, level = ?, user_agent = ?, ip = ?,
				methods = ?, via_upstream = ?, via_acr = ?, via_amr = ?, full_auth_time = ?, via_id_token = ?, acting_for = ? WHERE id = ?`,
				s.TokenHash, s.AccountID, millis(s.CreatedAt), millis(s.LastSeenAt), millis(s.ExpiresAt),
				millis(s.AuthTime), lists.amr, s.Level, s.UserAgent, s.IP,
				lists.methods, s.Via.Upstream, s.Via.ACR, lists.viaAMR, millis(s.FullAuthTime), nilIfEmpty(s.Via.IDTokenSealed), s.ActingFor, id)
		})
	if err != nil {
		return store.Session{}, err
	}
	s.CreatedAt, s.LastSeenAt = truncTime(s.CreatedAt), truncTime(s.LastSeenAt)
	s.ExpiresAt, s.AuthTime = truncTime(s.ExpiresAt), truncTime(s.AuthTime)
	s.FullAuthTime = truncTime(s.FullAuthTime)
	if len(s.AMR) == 0 {
		s.AMR = nil
	}
	if len(s.Methods) == 0 {
		s.Methods = nil
	}
	if len(s.Via.AMR) == 0 {
		s.Via.AMR = nil
	}
	s.Via.IDTokenSealed = nilIfEmpty(s.Via.IDTokenSealed)
	return s, nil
}

// DeleteSession returns an error wrapping store.ErrNotFound if there was no
// such session.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	if err := db.writer().execOne(ctx, "DELETE FROM sessions WHERE id = ?", id); err != nil {
		return fmt.Errorf("sqlstore: delete session %q: %w", id, err)
	}
	return nil
}

// ListSessions returns the account's sessions, newest (by CreatedAt)
// first. An unknown account has no sessions; that is not an error.
func (db *DB) ListSessions(ctx context.Context, accountID string) ([]store.Session, error) {
	list, err := queryAll(ctx, db.reader(), scanSession,
		"SELECT "+sessionColumns+" FROM sessions WHERE account_id = ? ORDER BY created_at DESC, id DESC", accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list sessions of %q: %w", accountID, err)
	}
	return list, nil
}

// DeleteAccountSessions removes every session of the account except the
// one with ID except (none if except is empty) and returns how many went.
func (db *DB) DeleteAccountSessions(ctx context.Context, accountID, except string) (int, error) {
	query, args := "DELETE FROM sessions WHERE account_id = ?", []any{accountID}
	if except != "" {
		query, args = query+" AND id <> ?", append(args, except)
	}
	n, err := db.writer().execCount(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete sessions of %q: %w", accountID, err)
	}
	return n, nil
}

// DeleteExpiredSessions removes the sessions whose ExpiresAt is not after
// now or whose LastSeenAt is not after idleBefore, and returns how many
// went. Both bounds are compared to the millisecond.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int, error) {
	n, err := db.writer().execCount(ctx, "DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?",
		millis(now), millis(idleBefore))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete expired sessions: %w", err)
	}
	return n, nil
}

func getSession(ctx context.Context, c conn, where string, args ...any) (store.Session, error) {
	s, err := scanSession(c.queryRow(ctx, "SELECT "+sessionColumns+" FROM sessions WHERE "+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Session{}, store.ErrNotFound
	}
	return s, err
}

// scanSession reads a row of sessionColumns from a *sql.Row or *sql.Rows.
func scanSession(row interface{ Scan(...any) error }) (store.Session, error) {
	var (
		s                                       store.Session
		amr, methods, viaAMR                    string
		createdAt, lastSeenAt, expiresAt, authT int64
		fullAuthT                               int64
	)
	err := row.Scan(&s.ID, &s.TokenHash, &s.AccountID, &createdAt, &lastSeenAt, &expiresAt, &authT,
		&amr, &s.Level, &s.UserAgent, &s.IP, &methods, &s.Via.Upstream, &s.Via.ACR, &viaAMR, &fullAuthT, &s.Via.IDTokenSealed, &s.ActingFor)
	if err != nil {
		return store.Session{}, err
	}
	s.CreatedAt, s.LastSeenAt = fromMillis(createdAt), fromMillis(lastSeenAt)
	s.ExpiresAt, s.AuthTime = fromMillis(expiresAt), fromMillis(authT)
	s.AMR = fieldsOrNil(amr)
	s.Methods = fieldsOrNil(methods)
	s.FullAuthTime = fromMillis(fullAuthT)
	s.Via.AMR = fieldsOrNil(viaAMR)
	return s, nil
}

func fieldsOrNil(s string) []string {
	v := strings.Fields(s)
	if len(v) == 0 {
		return nil
	}
	return v
}

// storedLists are a session's lists as stored.
type storedLists struct{ amr, methods, viaAMR string }

func sessionLists(s store.Session) (storedLists, error) {
	var l storedLists
	var err error
	if l.amr, err = joinAMR(s.AMR); err != nil {
		return l, err
	}
	if l.methods, err = joinAMR(s.Methods); err != nil {
		return l, fmt.Errorf("methods: %w", err)
	}
	if l.viaAMR, err = joinAMR(s.Via.AMR); err != nil {
		return l, fmt.Errorf("upstream amr: %w", err)
	}
	return l, nil
}

// joinAMR stores the method references space-separated, refusing values
// that would not split back into the same list.
func joinAMR(amr []string) (string, error) {
	for _, v := range amr {
		if v == "" || strings.ContainsFunc(v, unicode.IsSpace) {
			return "", fmt.Errorf("AMR value %q is empty or contains a space", v)
		}
	}
	return strings.Join(amr, " "), nil
}
