package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/portvakt/portvakt/internal/store"
)

var _ store.Delegations = (*DB)(nil)

const delegationColumns = "id, agent_id, principal_kind, principal_ref, principal_account_id, principal_name, principal_masked, principal_sealed, " +
	"rights, created_by, created_at, expires_at, accepted_at, approval_required, approved_at, approved_by, revoked_at, revoked_by, accept_hash"

// CreateDelegation implements store.Delegations. The partial unique
// index delegations_standing refuses a second standing delegation of the
// same agent for the same principal.
func (db *DB) CreateDelegation(ctx context.Context, d store.Delegation) error {
	rights, err := joinRights(d.Rights)
	if err != nil {
		return fmt.Errorf("sqlstore: create delegation %q: %w", d.ID, err)
	}
	_, err = db.writer().exec(ctx, "INSERT INTO delegations ("+delegationColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		d.ID, d.AgentID, d.PrincipalKind, d.PrincipalRef, nullIfEmpty(d.PrincipalAccountID), d.PrincipalName, d.PrincipalMasked,
		nilIfEmpty(d.PrincipalSealed), rights, d.CreatedBy, millis(d.CreatedAt), millis(d.ExpiresAt), millis(d.AcceptedAt),
		d.ApprovalRequired, millis(d.ApprovedAt), d.ApprovedBy, millis(d.RevokedAt), d.RevokedBy, nilIfEmpty(d.AcceptHash))
	if err != nil {
		return fmt.Errorf("sqlstore: create delegation %q: %w", d.ID, err)
	}
	return nil
}

// GetDelegation implements store.Delegations.
func (db *DB) GetDelegation(ctx context.Context, id string) (store.Delegation, error) {
	d, err := getDelegation(ctx, db.reader(), "id = ?", id)
	if err != nil {
		return d, fmt.Errorf("sqlstore: get delegation %q: %w", id, err)
	}
	return d, nil
}

func getDelegation(ctx context.Context, c conn, where string, args ...any) (store.Delegation, error) {
	d, err := scanDelegation(c.queryRow(ctx, "SELECT "+delegationColumns+" FROM delegations WHERE "+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Delegation{}, store.ErrNotFound
	}
	return d, err
}

// ListDelegations implements store.Delegations.
func (db *DB) ListDelegations(ctx context.Context, f store.DelegationFilter) ([]store.Delegation, error) {
	var (
		where []string
		args  []any
	)
	if f.AgentID != "" {
		where, args = append(where, "agent_id = ?"), append(args, f.AgentID)
	}
	if f.PrincipalAccountID != "" {
		where, args = append(where, "principal_account_id = ?"), append(args, f.PrincipalAccountID)
	}
	if f.PrincipalRef != "" {
		where, args = append(where, "principal_ref = ?"), append(args, f.PrincipalRef)
	}
	if len(where) == 0 && !f.PendingApproval {
		return nil, errors.New("sqlstore: list delegations: the filter selects nothing")
	}
	if f.PendingApproval {
		where = append(where, "approval_required = ? AND approved_at = ?")
		args = append(args, true, zeroTime)
	}
	if !f.IncludeRevoked || f.PendingApproval {
		where, args = append(where, "revoked_at = ?"), append(args, zeroTime)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 200
	}
	limit = min(limit, 1000)
	list, err := queryAll(ctx, db.reader().unprepared(), scanDelegation, fmt.Sprintf("SELECT "+delegationColumns+
		" FROM delegations WHERE "+strings.Join(where, " AND ")+" ORDER BY created_at DESC, id DESC LIMIT %d", limit), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list delegations: %w", err)
	}
	return list, nil
}

// UpdateDelegation implements store.Delegations.
func (db *DB) UpdateDelegation(ctx context.Context, id string, fn func(store.Delegation) (store.Delegation, error)) (store.Delegation, error) {
	var old store.Delegation
	d, err := update(ctx, db, "delegation", id,
		func(c conn) (store.Delegation, error) {
			var err error
			old, err = getDelegation(ctx, c, "id = ?"+db.d.forUpdate, id)
			return old, err
		},
		fn,
		func(c conn, d store.Delegation) error {
			if d.ID != id || d.AgentID != old.AgentID || d.PrincipalRef != old.PrincipalRef || d.PrincipalAccountID != old.PrincipalAccountID {
				return fmt.Errorf("updater changed the ID, agent or principal")
			}
			rights, err := joinRights(d.Rights)
			if err != nil {
				return err
			}
			return c.execOne(ctx, `UPDATE delegations SET principal_name = ?, principal_masked = ?, principal_sealed = ?, rights = ?,
				expires_at = ?, accepted_at = ?, approval_required = ?, approved_at = ?, approved_by = ?, revoked_at = ?, revoked_by = ?,
				accept_hash = ? WHERE id = ?`,
				d.PrincipalName, d.PrincipalMasked, nilIfEmpty(d.PrincipalSealed), rights, millis(d.ExpiresAt), millis(d.AcceptedAt),
				d.ApprovalRequired, millis(d.ApprovedAt), d.ApprovedBy, millis(d.RevokedAt), d.RevokedBy, nilIfEmpty(d.AcceptHash), id)
		})
	if err != nil {
		return store.Delegation{}, err
	}
	return normDelegation(d), nil
}

// normDelegation returns d as it reads back.
func normDelegation(d store.Delegation) store.Delegation {
	d.CreatedAt, d.ExpiresAt, d.AcceptedAt = truncTime(d.CreatedAt), truncTime(d.ExpiresAt), truncTime(d.AcceptedAt)
	d.ApprovedAt, d.RevokedAt = truncTime(d.ApprovedAt), truncTime(d.RevokedAt)
	d.PrincipalSealed, d.AcceptHash = nilIfEmpty(d.PrincipalSealed), nilIfEmpty(d.AcceptHash)
	if len(d.Rights) == 0 {
		d.Rights = nil
	}
	return d
}

func scanDelegation(r rowScanner) (store.Delegation, error) {
	var (
		d                                             store.Delegation
		principalAccount                              sql.NullString
		rights                                        string
		created, expires, accepted, approved, revoked int64
	)
	err := r.Scan(&d.ID, &d.AgentID, &d.PrincipalKind, &d.PrincipalRef, &principalAccount, &d.PrincipalName, &d.PrincipalMasked,
		&d.PrincipalSealed, &rights, &d.CreatedBy, &created, &expires, &accepted, &d.ApprovalRequired, &approved, &d.ApprovedBy,
		&revoked, &d.RevokedBy, &d.AcceptHash)
	if err != nil {
		return store.Delegation{}, err
	}
	d.PrincipalAccountID = principalAccount.String
	d.Rights = fieldsOrNil(rights)
	d.CreatedAt, d.ExpiresAt, d.AcceptedAt = fromMillis(created), fromMillis(expires), fromMillis(accepted)
	d.ApprovedAt, d.RevokedAt = fromMillis(approved), fromMillis(revoked)
	d.PrincipalSealed, d.AcceptHash = nilIfEmpty(d.PrincipalSealed), nilIfEmpty(d.AcceptHash)
	return d, nil
}

// joinRights stores rights space-separated, refusing a right that would
// not split back into the same list.
func joinRights(rights []string) (string, error) {
	s, err := joinAMR(rights)
	if err != nil {
		return "", fmt.Errorf("rights: %w", err)
	}
	return s, nil
}
