package sqlstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

var (
	_ store.Audit = (*DB)(nil)
	_ store.Roles = (*DB)(nil)

	_ store.AccountSearch = (*DB)(nil)
)

const auditColumns = "seq, id, at, kind, actor_kind, actor_id, subject, target, outcome, reason, ip, user_agent, request_id, data"

// AppendAuditEvent implements store.Audit.
func (db *DB) AppendAuditEvent(ctx context.Context, e store.AuditEvent) error {
	data := []byte("{}")
	if len(e.Data) > 0 {
		var err error
		if data, err = json.Marshal(e.Data); err != nil {
			return fmt.Errorf("sqlstore: append audit event: %w", err)
		}
	}
	_, err := db.writer().exec(ctx, `INSERT INTO audit_events
		(id, at, kind, actor_kind, actor_id, subject, target, outcome, reason, ip, user_agent, request_id, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, millis(e.At), e.Kind, e.ActorKind, e.ActorID, e.Subject, e.Target, e.Outcome, e.Reason,
		e.IP, e.UserAgent, e.RequestID, string(data))
	if err != nil {
		return fmt.Errorf("sqlstore: append audit event %s: %w", e.Kind, err)
	}
	return nil
}

// auditCursor is the position after the last event of a page: its time
// and sequence number, encoded so that callers treat it as opaque.
func auditCursor(at, seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at, 10) + "." + strconv.FormatInt(seq, 10)))
}

func parseAuditCursor(s string) (at, seq int64, err error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 48 {
		return 0, 0, store.ErrNotFound
	}
	a, q, ok := strings.Cut(string(b), ".")
	if !ok {
		return 0, 0, store.ErrNotFound
	}
	if at, err = strconv.ParseInt(a, 10, 64); err != nil {
		return 0, 0, store.ErrNotFound
	}
	if seq, err = strconv.ParseInt(q, 10, 64); err != nil {
		return 0, 0, store.ErrNotFound
	}
	return at, seq, nil
}

// ListAuditEvents implements store.Audit. Every filter is a conjunct the
// indexes serve: (subject, at, seq) for one account, (actor_id, at, seq)
// for one actor, (kind, at, seq) for one kind, (at, seq) otherwise; the
// cursor is a row-value comparison on (at, seq), so page n costs what
// page 1 does.
func (db *DB) ListAuditEvents(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, string, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, store.AuditEventLimit)
	var where []string
	var args []any
	add := func(cond string, v ...any) {
		where = append(where, cond)
		args = append(args, v...)
	}
	if f.Subject != "" {
		add("subject = ?", f.Subject)
	}
	if f.ActorKind != "" {
		add("actor_kind = ?", f.ActorKind)
	}
	if f.ActorID != "" {
		add("actor_id = ?", f.ActorID)
	}
	if len(f.Kinds) > 0 {
		if len(f.Kinds) > 100 {
			return nil, "", fmt.Errorf("sqlstore: list audit events: %d kinds, at most 100", len(f.Kinds))
		}
		v := make([]any, len(f.Kinds))
		for i, k := range f.Kinds {
			v[i] = k
		}
		add("kind IN ("+placeholders(len(v))+")", v...)
	}
	if !f.Since.IsZero() {
		add("at >= ?", millis(f.Since))
	}
	if !f.Until.IsZero() {
		add("at < ?", millis(f.Until))
	}
	if f.Cursor != "" {
		at, seq, err := parseAuditCursor(f.Cursor)
		if err != nil {
			return nil, "", fmt.Errorf("sqlstore: list audit events: bad cursor: %w", err)
		}
		add("(at, seq) < (?, ?)", at, seq)
	}
	q := "SELECT " + auditColumns + " FROM audit_events"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY at DESC, seq DESC LIMIT ?"
	args = append(args, limit+1)
	type seqEvent struct {
		seq int64
		e   store.AuditEvent
	}
	list, err := queryAll(ctx, db.reader().unprepared(), func(r rowScanner) (seqEvent, error) {
		var se seqEvent
		var at int64
		var data string
		e := &se.e
		if err := r.Scan(&se.seq, &e.ID, &at, &e.Kind, &e.ActorKind, &e.ActorID, &e.Subject, &e.Target, &e.Outcome,
			&e.Reason, &e.IP, &e.UserAgent, &e.RequestID, &data); err != nil {
			return se, err
		}
		e.At = fromMillis(at)
		e.Data = map[string]string{}
		if err := json.Unmarshal([]byte(data), &e.Data); err != nil {
			return se, fmt.Errorf("audit event %s: data: %w", e.ID, err)
		}
		return se, nil
	}, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("sqlstore: list audit events: %w", err)
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		last := list[limit-1]
		next = auditCursor(millis(last.e.At), last.seq)
	}
	out := make([]store.AuditEvent, len(list))
	for i, se := range list {
		out[i] = se.e
	}
	return out, next, nil
}

// DeleteAuditEventsBefore implements store.Audit. It deletes by sequence
// number through a subquery on the (at, seq) index, so a batch is cheap
// on both databases.
func (db *DB) DeleteAuditEventsBefore(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		limit = 10000
	}
	n, err := db.writer().execCount(ctx, `DELETE FROM audit_events WHERE seq IN
		(SELECT seq FROM audit_events WHERE at < ? ORDER BY at, seq LIMIT ?)`, millis(before), limit)
	if err != nil {
		return n, fmt.Errorf("sqlstore: delete audit events before %v: %w", before, err)
	}
	return n, nil
}

// PseudonymiseAuditEvents implements store.Audit: the only statements
// that change an audit event.
func (db *DB) PseudonymiseAuditEvents(ctx context.Context, accountID, pseudonym string) (int, error) {
	if accountID == "" || pseudonym == "" || accountID == pseudonym {
		return 0, fmt.Errorf("sqlstore: pseudonymise audit events: account and a different pseudonym are required")
	}
	var total int
	err := db.inTx(ctx, func(c conn) error {
		n, err := c.execCount(ctx, `UPDATE audit_events SET subject = ?, target = '', ip = '', user_agent = '', data = '{}',
			actor_id = CASE WHEN actor_id = ? THEN ? ELSE actor_id END WHERE subject = ?`,
			pseudonym, accountID, pseudonym, accountID)
		if err != nil {
			return err
		}
		m, err := c.execCount(ctx, "UPDATE audit_events SET actor_id = ? WHERE actor_id = ?", pseudonym, accountID)
		total = n + m
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlstore: pseudonymise audit events of %q: %w", accountID, err)
	}
	return total, nil
}

// GrantRole implements store.Roles.
func (db *DB) GrantRole(ctx context.Context, accountID, role string, at time.Time) error {
	_, err := db.writer().exec(ctx, `INSERT INTO account_roles (account_id, role, granted_at) VALUES (?, ?, ?)
		ON CONFLICT (account_id, role) DO NOTHING`, accountID, role, millis(at))
	if err != nil {
		return fmt.Errorf("sqlstore: grant %q to %q: %w", role, accountID, err)
	}
	return nil
}

// RevokeRole implements store.Roles.
func (db *DB) RevokeRole(ctx context.Context, accountID, role string) error {
	if err := db.writer().execOne(ctx, "DELETE FROM account_roles WHERE account_id = ? AND role = ?", accountID, role); err != nil {
		return fmt.Errorf("sqlstore: revoke %q from %q: %w", role, accountID, err)
	}
	return nil
}

// FindAccountsByPhone implements store.AccountSearch.
func (db *DB) FindAccountsByPhone(ctx context.Context, phone string) ([]string, error) {
	if phone == "" {
		return []string{}, nil
	}
	list, err := queryAll(ctx, db.reader(), scanString,
		"SELECT DISTINCT account_id FROM factors WHERE phone = ? AND confirmed_at > ? ORDER BY account_id LIMIT 100", phone, millis(time.Time{}))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: accounts by phone: %w", err)
	}
	return nonNil(list), nil
}

func scanString(r rowScanner) (string, error) {
	var s string
	err := r.Scan(&s)
	return s, err
}

// ListRoles implements store.Roles.
func (db *DB) ListRoles(ctx context.Context, accountID string) ([]string, error) {
	list, err := queryAll(ctx, db.reader(), scanString,
		"SELECT role FROM account_roles WHERE account_id = ? ORDER BY role", accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: roles of %q: %w", accountID, err)
	}
	return nonNil(list), nil
}

// ListRoleHolders implements store.Roles.
func (db *DB) ListRoleHolders(ctx context.Context, role string) ([]string, error) {
	list, err := queryAll(ctx, db.reader(), scanString,
		"SELECT account_id FROM account_roles WHERE role = ? ORDER BY account_id", role)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: holders of %q: %w", role, err)
	}
	return nonNil(list), nil
}
