package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// SeedAuditEvents appends n audit events for the benchmark, spread over
// accounts accounts ("acct-0" …) and over the year before end, 500 rows
// to a statement and 20,000 to a transaction: what a year of a busy
// service writes, without a year of Record calls.
func (db *DB) SeedAuditEvents(ctx context.Context, n, accounts int, end time.Time) error {
	const perStmt, perTx = 500, 20000
	kinds := []string{"login.succeeded", "login.failed", "password.changed", "factor.added", "session.ended"}
	step := int64(365*24*time.Hour/time.Millisecond) / int64(n)
	start := millis(end) - int64(n)*step
	for done := 0; done < n; {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		tx, err := db.write.BeginTx(ctx, nil)
		if err != nil {
			cancel()
			return err
		}
		for txEnd := min(n, done+perTx); done < txEnd; {
			rows := min(perStmt, txEnd-done)
			var b strings.Builder
			b.WriteString("INSERT INTO audit_events (id, at, kind, actor_kind, actor_id, subject, target, outcome, ip, user_agent, request_id, data) VALUES ")
			args := make([]any, 0, rows*12)
			for i := range rows {
				k := done + i
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
				acct := fmt.Sprintf("acct-%d", (k*7919)%accounts)
				args = append(args, fmt.Sprintf("seed-%d", k), start+int64(k)*step, kinds[k%len(kinds)], "account", acct, acct,
					"", "ok", "192.0.2.1", "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0", fmt.Sprintf("req-%d", k), `{"method":"password"}`)
			}
			if _, err := tx.ExecContext(ctx, db.d.rebind(b.String()), args...); err != nil {
				tx.Rollback()
				cancel()
				return err
			}
			done += rows
		}
		err = tx.Commit()
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}
