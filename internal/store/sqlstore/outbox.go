package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

const messageColumns = "id, channel, recipient, subject, body_text, body_html, locale, created_at, attempts, next_attempt_at, sent_at, last_error"

// unsent is the stored sent_at of a message not yet delivered: the zero
// time's millisecond value.
var unsent = millis(time.Time{})

// EnqueueMessage inserts m. The error wraps store.ErrConflict if m.ID is
// taken.
func (db *DB) EnqueueMessage(ctx context.Context, m store.Message) error {
	if err := insertMessage(ctx, db.writer(), m); err != nil {
		return fmt.Errorf("sqlstore: enqueue message %q: %w", m.ID, err)
	}
	return nil
}

// insertMessage is EnqueueMessage on a pool or in a transaction.
func insertMessage(ctx context.Context, c conn, m store.Message) error {
	_, err := c.exec(ctx,
		"INSERT INTO messages ("+messageColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		m.ID, m.Channel, m.To, m.Subject, m.Text, m.HTML, m.Locale, millis(m.CreatedAt), m.Attempts,
		millis(m.NextAttemptAt), millis(m.SentAt), m.LastError)
	return err
}

// ClaimMessages returns up to limit unsent messages whose NextAttemptAt is
// not after now, oldest (by CreatedAt) first, and in the same transaction
// moves their NextAttemptAt to now+lease; the returned messages carry the
// new value. A limit of zero or less claims nothing.
//
// Concurrent claimers never get the same message. On PostgreSQL the rows
// are selected FOR UPDATE SKIP LOCKED, so claimers on several nodes take
// disjoint batches without waiting for each other; on SQLite the
// transaction holds the database's write lock.
func (db *DB) ClaimMessages(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]store.Message, error) {
	if limit <= 0 {
		return nil, nil
	}
	until := now.Add(lease)
	var claimed []store.Message
	err := db.inTx(ctx, func(c conn) error {
		var err error
		claimed, err = listMessages(ctx, c,
			"WHERE sent_at = ? AND next_attempt_at <= ? ORDER BY created_at, id LIMIT ?"+db.d.skipLocked,
			unsent, millis(now), limit)
		if err != nil || len(claimed) == 0 {
			return err
		}
		args := []any{millis(until)}
		for _, m := range claimed {
			args = append(args, m.ID)
		}
		_, err = c.exec(ctx,
			"UPDATE messages SET next_attempt_at = ? WHERE id IN ("+placeholders(len(claimed))+")", args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: claim messages: %w", err)
	}
	for i := range claimed {
		claimed[i].NextAttemptAt = truncTime(until)
	}
	return claimed, nil
}

// RenewMessageLeases moves the lease of those of ids still unsent and
// leased until held to until, and returns how many it moved. It compares
// the lease's end rather than an owner column: another claimer that took
// a message over after the lease ran out gave it its own, later end.
func (db *DB) RenewMessageLeases(ctx context.Context, ids []string, held, until time.Time) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	args := []any{millis(until), unsent, millis(held)}
	for _, id := range ids {
		args = append(args, id)
	}
	n, err := db.writer().execCount(ctx,
		"UPDATE messages SET next_attempt_at = ? WHERE sent_at = ? AND next_attempt_at = ? AND id IN ("+placeholders(len(ids))+")",
		args...)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: renew message leases: %w", err)
	}
	return n, nil
}

// MarkMessageSent records that the message was delivered at at; it is
// never claimed again. The error wraps store.ErrNotFound for an unknown ID.
func (db *DB) MarkMessageSent(ctx context.Context, id string, at time.Time) error {
	if err := db.writer().execOne(ctx, "UPDATE messages SET sent_at = ? WHERE id = ?", millis(at), id); err != nil {
		return fmt.Errorf("sqlstore: mark message %q sent: %w", id, err)
	}
	return nil
}

// MarkMessageFailed records a failed attempt: Attempts goes up by one,
// LastError becomes errText and NextAttemptAt next. The error wraps
// store.ErrNotFound for an unknown ID.
func (db *DB) MarkMessageFailed(ctx context.Context, id string, errText string, next time.Time) error {
	err := db.writer().execOne(ctx,
		"UPDATE messages SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?",
		errText, millis(next), id)
	if err != nil {
		return fmt.Errorf("sqlstore: mark message %q failed: %w", id, err)
	}
	return nil
}

// ListMessages returns the messages matching f, newest (by CreatedAt)
// first, at most f.Limit of them (100 if f.Limit is zero or less).
func (db *DB) ListMessages(ctx context.Context, f store.MessageFilter) ([]store.Message, error) {
	var (
		where []string
		args  []any
	)
	if f.To != "" {
		where, args = append(where, "recipient = ?"), append(args, f.To)
	}
	if f.Channel != "" {
		where, args = append(where, "channel = ?"), append(args, f.Channel)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	clause := ""
	if len(where) > 0 {
		clause = "WHERE " + strings.Join(where, " AND ") + " "
	}
	list, err := listMessages(ctx, db.reader().unprepared(), clause+"ORDER BY created_at DESC, id DESC LIMIT ?",
		append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list messages: %w", err)
	}
	return list, nil
}

// listMessages runs SELECT messageColumns FROM messages followed by rest.
func listMessages(ctx context.Context, c conn, rest string, args ...any) ([]store.Message, error) {
	rows, err := c.query(ctx, "SELECT "+messageColumns+" FROM messages "+rest, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []store.Message
	for rows.Next() {
		var (
			m                              store.Message
			createdAt, nextAttempt, sentAt int64
		)
		if err := rows.Scan(&m.ID, &m.Channel, &m.To, &m.Subject, &m.Text, &m.HTML, &m.Locale, &createdAt,
			&m.Attempts, &nextAttempt, &sentAt, &m.LastError); err != nil {
			return nil, err
		}
		m.CreatedAt, m.NextAttemptAt, m.SentAt = fromMillis(createdAt), fromMillis(nextAttempt), fromMillis(sentAt)
		list = append(list, m)
	}
	return list, rows.Err()
}

// ForgetMessage blanks the subject and bodies of a delivered message; the
// row (recipient, channel, times, attempts) stays until housekeeping
// deletes it. An unsent message is left as it is, so it can still be
// delivered.
func (db *DB) ForgetMessage(ctx context.Context, id string) error {
	if _, err := db.writer().exec(ctx,
		"UPDATE messages SET subject = '', body_text = '', body_html = '' WHERE id = ? AND sent_at <> ?", id, unsent); err != nil {
		return fmt.Errorf("sqlstore: forget message %s: %w", id, err)
	}
	return nil
}
